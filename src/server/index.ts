export { createServer, loggablePath, type MergeshotServer, type ServerDependencies } from './app.js';
export { UrlSigner, buildImageUrl, canonicalRequest, imagePath } from './signing.js';
export { TokenCodec, parseTokenKey, type TokenPayload } from './tokens.js';
export { buildMergeTagUrl, espNames, espLabels, type EspName, type MergeTagUrl, type UrlCommandOptions } from './mergeTagUrl.js';
