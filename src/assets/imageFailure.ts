/**
 * Failure classification for image loads. The stages below a load throw a Reason (a code and a
 * message without its subject); classify() turns whatever a load threw (a Reason, a guard refusal
 * buried in a socket error, an undici or DNS code, a cancellation) into one AssetError whose
 * message starts with the image's scheme and host. URLs carry names and e-mails in their paths and
 * queries, so no message built here names more than that.
 */
import { AssetError, isMergeshotError } from '../errors/index.js';

/** A failure whose message is filled in with `where` by `classify`. */
export class Reason extends Error {
  constructor(
    readonly code: 'ASSET_REFUSED' | 'ASSET_FAILED',
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function tooManyBytes(maxBytes: number, subject: string): Reason {
  return new Reason('ASSET_REFUSED', `${subject} is larger than maxBytes (${maxBytes} bytes).`, 'Use a smaller image or raise fetch.maxBytes.');
}

interface Circumstances {
  readonly cancelled: boolean;
  readonly timedOut: boolean;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

/** Turns whatever a load threw into one AssetError whose message starts with the image's scheme and host. */
export function classify(error: unknown, where: string, circumstances: Circumstances): AssetError {
  const prefix = `image ${where}: `;
  if (error instanceof Reason) {
    return new AssetError(error.code, `${prefix}${error.message}`, detail(where, error.hint), { cause: error.cause });
  }
  const guardError = findAssetError(error);
  if (guardError !== undefined) {
    return new AssetError(guardError.code, `${prefix}${guardError.message}`, detail(where, guardError.detail.hint), { cause: error });
  }
  if (circumstances.cancelled) return new AssetError('ABORTED', `${prefix}the fetch was cancelled.`, detail(where), { cause: error });
  if (circumstances.timedOut) {
    return new AssetError('ASSET_FAILED', `${prefix}no complete image within timeoutMs (${circumstances.timeoutMs} ms).`, detail(where, 'The server is too slow; host the image elsewhere or raise fetch.timeoutMs.'), { cause: error });
  }
  const code = errorCode(error);
  switch (code) {
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
      return new AssetError('ASSET_REFUSED', `${prefix}body is larger than maxBytes (${circumstances.maxBytes} bytes).`, detail(where, 'Use a smaller image or raise fetch.maxBytes.'), { cause: error });
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new AssetError('ASSET_FAILED', `${prefix}no complete image within timeoutMs (${circumstances.timeoutMs} ms).`, detail(where), { cause: error });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NODATA':
      return new AssetError('ASSET_FAILED', `${prefix}the host name does not resolve (${code}).`, detail(where, 'Check the host name in the image URL.'), { cause: error });
    default:
      return new AssetError('ASSET_FAILED', `${prefix}the request failed (${code ?? 'unknown error'}).`, detail(where), { cause: error });
  }
}

function detail(where: string, hint?: string): { source: string; hint?: string } {
  return hint === undefined ? { source: where } : { source: where, hint };
}

/** Guard refusals reach us wrapped by the socket layer; find them in the cause chain. */
function findAssetError(error: unknown): AssetError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth += 1) {
    if (current instanceof AssetError) return current;
  }
  return undefined;
}

function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth += 1) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

export function asAssetError(error: unknown): AssetError {
  if (error instanceof AssetError) return error;
  if (isMergeshotError(error) && error.code === 'ABORTED') return new AssetError('ABORTED', error.message, error.detail, { cause: error });
  return new AssetError('ASSET_FAILED', 'image: unexpected failure while loading the image.', {}, { cause: error });
}

/** A fresh error per caller, so one caller's handling (stack, wrapping) cannot affect another's. */
export function reissue(error: AssetError): AssetError {
  return new AssetError(error.code, error.message, error.detail, { cause: error.cause });
}

export function closedError(closeSignal: AbortSignal): AssetError {
  return new AssetError('ABORTED', 'image fetch cancelled: the image fetcher is closing.', {}, { cause: closeSignal.reason });
}

export function abortedError(signal: AbortSignal): AssetError {
  return new AssetError('ABORTED', 'image fetch cancelled by the caller.', {}, { cause: signal.reason });
}
