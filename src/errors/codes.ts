/**
 * The code catalogue. Codes are stable: tests, docs and dashboards key on them, so a code is
 * never renamed, only added. Each code carries the public message a client may see (never a
 * path, value or stack) and the CLI exit code it maps to.
 */
export const errorCatalogue = {
  USAGE: { exit: 2, http: 400, public: 'The request or command line is invalid.' },
  CONFIG_INVALID: { exit: 2, http: 500, public: 'The server configuration is invalid.' },
  MANIFEST_INVALID: { exit: 2, http: 500, public: 'The template manifest is invalid.' },
  TEMPLATE_NOT_FOUND: { exit: 2, http: 404, public: 'No such template.' },
  TEMPLATE_INVALID: { exit: 2, http: 500, public: 'The template cannot be compiled.' },
  SIZE_UNKNOWN: { exit: 2, http: 400, public: 'The template has no such size.' },
  PRESET_UNKNOWN: { exit: 2, http: 400, public: 'No such preset.' },
  PARAM_REPEATED: { exit: 2, http: 400, public: 'A parameter is given more than once.' },
  DATA_UNREADABLE: { exit: 2, http: 400, public: 'The data could not be read.' },
  FIELD_REQUIRED: { exit: 1, http: 422, public: 'A required field is missing and has no fallback.' },
  ASSET_REFUSED: { exit: 1, http: 422, public: 'An asset was refused.' },
  ASSET_FAILED: { exit: 1, http: 422, public: 'An asset could not be loaded.' },
  FILE_OUTSIDE_ROOT: { exit: 2, http: 500, public: 'A template file leads outside its folder (a link) and was refused.' },
  FILE_IS_LINK: { exit: 2, http: 409, public: 'A folder to write into is a link; it was refused.' },
  RENDER_TIMEOUT: { exit: 1, http: 503, public: 'The render timed out.' },
  RENDER_FAILED: { exit: 1, http: 500, public: 'The render failed.' },
  BROWSER_UNAVAILABLE: { exit: 1, http: 503, public: 'The browser is not available.' },
  BROWSER_CRASHED: { exit: 1, http: 503, public: 'The browser crashed during the render.' },
  POOL_QUEUE_FULL: { exit: 1, http: 503, public: 'Too many renders are waiting.' },
  ENCODE_FAILED: { exit: 1, http: 500, public: 'The image could not be encoded.' },
  ABORTED: { exit: 1, http: 503, public: 'The work was cancelled.' },
  SIGNATURE_INVALID: { exit: 2, http: 403, public: 'Forbidden.' },
  TOKEN_INVALID: { exit: 2, http: 403, public: 'Forbidden.' },
  UNAUTHORIZED: { exit: 2, http: 401, public: 'A valid API key is required: Authorization: Bearer <key>.' },
  CSRF_INVALID: { exit: 2, http: 403, public: 'This call needs the studio page\'s X-CSRF-Token header: reload the page.' },
  LOGIN_REQUIRED: { exit: 2, http: 401, public: 'Log in to the studio first.' },
  RATE_LIMITED: { exit: 1, http: 429, public: 'Too many requests; retry later.' },
  BATCH_NOT_FOUND: { exit: 2, http: 404, public: 'No such batch.' },
  BATCH_NOT_READY: { exit: 1, http: 409, public: 'The batch has not finished yet.' },
  GOLDEN_NOT_FOUND: { exit: 2, http: 404, public: 'This visual test has no golden image yet.' },
  VISUAL_CASE_NOT_FOUND: { exit: 2, http: 404, public: 'The template has no such visual test.' },
  VISUAL_NO_DIFF: { exit: 2, http: 404, public: 'This image matches its golden: there is no diff.' },
  UPLOAD_NOT_FOUND: { exit: 2, http: 404, public: 'No such upload.' },
  UPLOAD_BUSY: { exit: 1, http: 409, public: 'A preflight of this upload is already running.' },
  NOT_FOUND: { exit: 2, http: 404, public: 'Not found.' },
  CACHE_FAILED: { exit: 1, http: 500, public: 'The image cache failed.' },
  STORE_UNAVAILABLE: { exit: 1, http: 503, public: 'The shared image store is not reachable.' },
  QUEUE_UNAVAILABLE: { exit: 1, http: 503, public: 'The work queue (Redis) is not reachable.' },
  INTERNAL: { exit: 1, http: 500, public: 'Internal error.' },
} as const satisfies Record<string, { exit: number; http: number; public: string }>;

export type ErrorCode = keyof typeof errorCatalogue;
