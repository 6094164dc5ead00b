/**
 * The studio's one way to the server: the same JSON API as every other client (/api/…), with
 * the session cookie instead of a bearer key, and the CSRF token the page was served with on
 * every state-changing call. Errors arrive as `{"error": {code, message, field?, hint?, source?}}`
 * and become ApiError, which callers branch on by `code`, never by message text.
 */

export interface ErrorSource {
  /** Relative to the template folder: template.html, style.css… */
  readonly file?: string;
  readonly line?: number;
  readonly excerpt?: string;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly source?: ErrorSource,
  ) {
    super(message);
  }
}

const csrfToken = (): string => document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';

const unsafe = (method: string) => !['GET', 'HEAD'].includes(method);

async function send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json, image/*' };
  if (unsafe(method)) headers['X-CSRF-Token'] = csrfToken();
  let payload: BodyInit | undefined;
  if (body instanceof Blob || body instanceof FormData || typeof body === 'string') payload = body;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (body instanceof Blob && body.type) headers['Content-Type'] = body.type;
  const response = await fetch(path, { method, headers, body: payload ?? null, credentials: 'same-origin', ...(signal ? { signal } : {}) });
  if (response.status === 401 && !path.startsWith('/login')) {
    // The session ended (server restart, idle timeout): log in again and come back here.
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

async function errorOf(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string; hint?: string; source?: ErrorSource } };
    const error = body.error ?? {};
    return new ApiError(response.status, error.code ?? 'INTERNAL', error.message ?? response.statusText, error.hint, error.source);
  } catch {
    return new ApiError(response.status, 'INTERNAL', `${response.status} ${response.statusText}`);
  }
}

/** An image answer with what the server said about it. */
export interface ImageAnswer {
  readonly blob: Blob;
  readonly contentType: string;
  readonly bytes: number;
  readonly warnings: readonly string[];
  readonly cache: string | undefined;
  /** Server-side render time (Server-Timing), absent on a cache hit. */
  readonly renderMs: number | undefined;
}

export const api = {
  async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return (await (await send('GET', path, undefined, signal)).json()) as T;
  },
  async post<T>(path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    return (await (await send('POST', path, body, signal)).json()) as T;
  },
  async put<T>(path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    return (await (await send('PUT', path, body, signal)).json()) as T;
  },
  async delete(path: string, signal?: AbortSignal): Promise<void> {
    await send('DELETE', path, undefined, signal);
  },
  /** A POST that answers an image (POST /api/render). */
  async image(path: string, body: unknown, signal?: AbortSignal): Promise<ImageAnswer> {
    const response = await send('POST', path, body, signal);
    const blob = await response.blob();
    const warnings = (response.headers.get('X-Mergeshot-Warnings') ?? '').split(',').filter(Boolean);
    const timing = /render;dur=(\d+(?:\.\d+)?)/.exec(response.headers.get('Server-Timing') ?? '');
    return { blob, contentType: response.headers.get('Content-Type') ?? blob.type, bytes: blob.size, warnings, cache: response.headers.get('X-Mergeshot-Cache') ?? undefined, renderMs: timing ? Number(timing[1]) : undefined };
  },
  /** A GET that answers a file to keep (a zip, a CSV): fetched with the session, then offered as a download. */
  async download(path: string, fileName: string): Promise<void> {
    const blob = await (await send('GET', path)).blob();
    const url = URL.createObjectURL(blob);
    const link = Object.assign(document.createElement('a'), { href: url, download: fileName });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  },
};
