import { errorCatalogue, type ErrorCode } from './codes.js';

export { errorCatalogue, type ErrorCode } from './codes.js';
export { fromZod } from './fromZod.js';
export type { RenderWarning, WarningCode } from './warning.js';

/** Context for a message. `value` is only ever a length or type description, never a record value. */
export interface ErrorDetail {
  readonly field?: string;
  readonly row?: number;
  readonly hint?: string;
  readonly source?: string;
  /** A syntax error's place in `source` (1-based) and its reason as the parser gives it. */
  readonly line?: number;
  readonly column?: number;
  readonly reason?: string;
}

/**
 * Base of every error mergeshot throws on purpose. Callers branch on `code` (or the class),
 * never on message text; front ends map `code` to an exit code or HTTP status.
 */
export class MergeshotError extends Error {
  readonly code: ErrorCode;
  readonly detail: ErrorDetail;

  constructor(code: ErrorCode, message: string, detail: ErrorDetail = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.detail = detail;
    this.name = new.target.name;
  }

  /** What a client may see: no paths, values or stacks. */
  get publicMessage(): string {
    return errorCatalogue[this.code].public;
  }

  get exitCode(): number {
    return errorCatalogue[this.code].exit;
  }

  get httpStatus(): number {
    return errorCatalogue[this.code].http;
  }
}

export class UsageError extends MergeshotError {}
export class ConfigError extends MergeshotError {}
export class TemplateError extends MergeshotError {}
export class DataError extends MergeshotError {}
export class AssetError extends MergeshotError {}
export class RenderError extends MergeshotError {}
export class EncodeError extends MergeshotError {}
export class CacheError extends MergeshotError {}
export class AccessError extends MergeshotError {}

export function isMergeshotError(error: unknown): error is MergeshotError {
  return error instanceof MergeshotError;
}

/** Wraps anything unexpected as INTERNAL, keeping the original as `cause`. */
export function toMergeshotError(error: unknown): MergeshotError {
  if (isMergeshotError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new MergeshotError('INTERNAL', message, {}, { cause: error });
}
