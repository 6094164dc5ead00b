import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { FormatAmbiguousError, type AmbiguousColumn } from '../data/index.js';
import { errorCatalogue, isMergeshotError, MergeshotError, type ErrorCode } from '../errors/index.js';

/**
 * MergeshotError → HTTP status and `{"error": {"code", "message", "field"?, "hint"?}}`. The
 * message a client sees is the code's public message, or for request errors (4xx, which name
 * what in the request is wrong) the error's own message and its hint, the fix; never a path, a
 * record value or a stack.
 *
 * One exception, FORMAT_AMBIGUOUS (422): its message and `columns` carry two of the column's
 * values read both ways, because that is the question only the client can answer. They go to
 * the authenticated client that sent (or uploaded) the data, in this answer only: nothing logs
 * an error body, and the error handler logs only unexpected errors.
 */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly field?: string; readonly hint?: string; readonly columns?: readonly AmbiguousColumn[] };
}

/** Codes whose own message is about the client's request and safe to return. */
const requestCodes: ReadonlySet<ErrorCode> = new Set(['FORMAT_AMBIGUOUS', 'USAGE', 'SIZE_UNKNOWN', 'PRESET_UNKNOWN', 'PARAM_REPEATED', 'FIELD_REQUIRED', 'DATA_UNREADABLE', 'BATCH_NOT_FOUND', 'BATCH_NOT_READY', 'TEMPLATE_NOT_FOUND', 'SCOPE_MISSING', 'UPLOAD_TOO_LARGE', 'UPLOAD_PARSING', 'DATA_QUOTA_EXCEEDED']);

/** Seconds a client should wait before retrying an overloaded server. */
const retryAfterSeconds = 5;

export function toErrorResponse(error: unknown): { status: number; body: ErrorBody; retryAfter?: number } {
  if (!isMergeshotError(error)) return { status: 500, body: { error: { code: 'INTERNAL', message: errorCatalogue.INTERNAL.public } } };
  const status = error.httpStatus;
  const isRequestError = requestCodes.has(error.code);
  const message = isRequestError ? publicText(error) : error.publicMessage;
  const question = error instanceof FormatAmbiguousError ? error.columns : undefined;
  const hint = question ? formatsHint(question) : isRequestError ? error.detail.hint : undefined;
  const body: ErrorBody = { error: { code: error.code, message, ...(error.detail.field ? { field: error.detail.field } : {}), ...(hint ? { hint } : {}), ...(question ? { columns: question } : {}) } };
  const overloaded = error.code === 'POOL_QUEUE_FULL' || error.code === 'RATE_LIMITED' || error.code === 'UPLOAD_PARSING' || error.code === 'ABORTED' || error.code === 'BROWSER_UNAVAILABLE';
  return { status, body, ...(overloaded ? { retryAfter: retryAfterSeconds } : {}) };
}

/** The fix in the API's words (the error's own hint names the CLI's --date-format). */
function formatsHint(columns: readonly AmbiguousColumn[]): string {
  const example = Object.fromEntries(columns.map((column) => [column.field, column.formats[0]]));
  const alternatives = columns.map((column) => `"${column.field}": "${column.formats[1]}"`).join(', ');
  return `Send the request again with "formats": ${JSON.stringify(example)} (or ${alternatives}), or set "input" on the field in template.json.`;
}

/** Request-error messages may name a template folder path: keep only what the client sent. */
function publicText(error: MergeshotError): string {
  if (error.code === 'TEMPLATE_NOT_FOUND') return errorCatalogue.TEMPLATE_NOT_FOUND.public;
  if (error.code === 'SIZE_UNKNOWN') return error.message.replace(/^.*?: (?=no size)/, '');
  return error.message;
}

export function sendError(res: Response, error: unknown, statusOverride?: number): void {
  const { status, body, retryAfter } = toErrorResponse(error);
  // A caller that knows how long the wait is (the key throttle) has set it already.
  if (retryAfter !== undefined && !res.hasHeader('Retry-After')) res.setHeader('Retry-After', String(retryAfter));
  res.setHeader('Cache-Control', 'no-store');
  res.status(statusOverride ?? status).json(body);
}

export function httpError(code: ErrorCode, message?: string, field?: string): MergeshotError {
  return new MergeshotError(code, message ?? errorCatalogue[code].public, field ? { field } : {});
}

/**
 * The last middleware: anything thrown becomes JSON; unexpected errors are logged with their cause.
 * Express 5 brings a rejected async handler here by itself, so route handlers throw, not catch.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const bodyError = error as { type?: string; status?: number };
    // body-parser errors: too large, malformed JSON.
    if (bodyError?.type === 'entity.too.large') {
      sendError(res, new MergeshotError('USAGE', 'The request body is larger than the server accepts (server.bodyMaxBytes / server.uploadMaxBytes).'), 413);
      return;
    }
    if (bodyError?.type === 'entity.parse.failed' || bodyError?.type === 'encoding.unsupported' || bodyError?.type === 'charset.unsupported') {
      sendError(res, new MergeshotError('USAGE', 'The request body is not valid JSON.'));
      return;
    }
    if (!isMergeshotError(error)) (req as { log?: Logger }).log?.error({ err: error }, 'unexpected error') ?? logger.error({ err: error }, 'unexpected error');
    sendError(res, error);
  };
}
