/**
 * The studio's campaigns: a CSV uploaded once (`uploadStore.ts`, stored under the studio's data
 * folder), its column mapping (`mapping.ts`, the CLI's `--map` rule), its preflight and its report
 * (`routes.ts`). Batches made from an upload are server batches (server/batches/), which read the
 * upload through this folder; the batch runner mounts these routes beside its own.
 */
export { UploadStore, type UploadInfo, type UnreadableRow, type WarnedRow, type UploadLimits } from './uploadStore.js';
export { Expiry, isExpired, type ExpiryOptions, type ExpirySource } from './expiry.js';
export { mountCampaignRoutes, type CampaignRouteOptions, type CampaignRoutes } from './routes.js';
export { checkFormats, checkMapping, columnMapping, formatsSchema, mapSchema, type ColumnMapping } from './mapping.js';
export { csvBodyBytes, isCsvContentType } from './csvBody.js';
