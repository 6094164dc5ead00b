import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import type { MergeshotConfig } from '../../config/index.js';
import { ConfigError } from '../../errors/index.js';
import { createPipeline } from '../../pipeline/index.js';
import { createServer } from '../../server/index.js';

export interface ServeOptions {
  /** Aborted by cli/main.ts on SIGTERM/SIGINT: stop accepting, finish in flight, close. */
  readonly signal: AbortSignal;
  readonly logger?: Logger;
  /** Where the studio's address is told to the person who started the server. */
  readonly stderr?: NodeJS.WritableStream;
}

/**
 * `mergeshot serve`: the HTTP server on `server.host:server.port`. Logs are JSON lines on
 * stdout; the first is `{"msg":"listening","url":…,"port":…}` (with `--port 0` the port the
 * system chose). Resolves after a graceful drain: listener closed, requests in flight answered
 * (for at most `server.shutdownGraceMs`), renders finished, Chromium closed.
 */
export async function runServe(config: Readonly<MergeshotConfig>, options: ServeOptions): Promise<void> {
  const logger = options.logger ?? pino({ base: { service: 'mergeshot' }, redact: ['req.headers.authorization', 'req.headers.cookie'] });
  const pipeline = createPipeline(config, { onWarning: (message) => logger.warn(message) });
  try {
    const server = await createServer(pipeline, config, { logger });
    const http = server.app.listen(config.server.port, config.server.host);
    try {
      await Promise.race([once(http, 'listening'), once(http, 'error').then(([error]) => Promise.reject(error as Error))]);
    } catch (error) {
      await server.close();
      const code = (error as NodeJS.ErrnoException).code;
      throw new ConfigError('CONFIG_INVALID', `cannot listen on ${config.server.host}:${config.server.port} (${code ?? (error as Error).message}). Choose another port with --port or MERGESHOT_PORT.`, { source: 'server.port' }, { cause: error });
    }
    const { port } = http.address() as AddressInfo;
    const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
    logger.info({ url: `http://${host}:${port}`, port }, 'listening');
    const loginToken = server.studioLoginToken();
    if (config.studio.enabled) {
      // The one-time URL is the credential of a first run with nothing configured: it is for the
      // person at the terminal (stderr), once, like Jupyter's. The JSON log, which goes to log
      // stores and other people, says a link was issued, never the link.
      const studioUrl = `http://${host}:${port}/`;
      const lifetime = config.studio.loginLinkMs >= 60_000 ? `${Math.round(config.studio.loginLinkMs / 60_000)} min` : `${Math.round(config.studio.loginLinkMs / 1000)} s`;
      if (loginToken) logger.info({ studio: studioUrl, loginLinkMs: config.studio.loginLinkMs }, 'studio: a one-time login link was issued on the terminal (or set MERGESHOT_STUDIO_PASSWORD)');
      else logger.info({ studio: studioUrl }, 'studio: log in with the studio password or an API key');
      options.stderr?.write(
        loginToken
          ? `\nStudio: open ${studioUrl}login?token=${loginToken}\n(the link logs in once, within ${lifetime}; set MERGESHOT_STUDIO_PASSWORD for a lasting login)\n\n`
          : `\nStudio: ${studioUrl} (log in with the studio password)\n\n`,
      );
    }
    // Chromium and the warm pages open in the background, so the first image is not the slow one.
    pipeline.warm().catch((error: unknown) => logger.warn({ err: error }, 'warming Chromium failed; /readyz will report it'));

    if (!options.signal.aborted) await once(options.signal, 'abort');
    logger.info({ graceMs: config.server.shutdownGraceMs }, 'draining: no new connections, finishing requests in flight');
    server.beginShutdown();
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeIdleConnections();
    const idle = setInterval(() => http.closeIdleConnections(), 100);
    const grace = setTimeout(() => http.closeAllConnections(), config.server.shutdownGraceMs);
    try {
      await closed;
    } finally {
      clearInterval(idle);
      clearTimeout(grace);
    }
    await server.close();
  } finally {
    await pipeline.close();
  }
  logger.info('stopped');
}
