import { Router } from 'express';
import { isMergeshotError } from '../../errors/index.js';
import { losslessPreset, type Pipeline } from '../../pipeline/index.js';
import type { TemplateProblem } from '../bootCheck.js';
import type { ServerMetrics } from '../metrics.js';

/**
 * /healthz: the process answers. /readyz: Chromium answers a real test render (the first
 * template, empty record, lossless preset), reused for `readyCacheMs` so a load balancer
 * polling every second does not cost a render per poll; 503 while draining. /metrics: the
 * server's own prom-client registry.
 *
 * A broken template does not make the server unready: every node has the same templates, so a
 * 503 would take them all out of the load balancer and stop every other template's images too.
 * /readyz stays 200 and lists them (`broken: [{ template, code }]`, re-read with each probe, so
 * a fixed template leaves the list); the probe renders the first template without problems. The
 * reason (paths, the line) is for the studio's error panel and the log, not this public route.
 * Only when no template is usable is the server unready.
 */
export function healthRouter(options: { pipeline: Pipeline; metrics: ServerMetrics; readyCacheMs: number; isDraining: () => boolean; problems: () => Promise<TemplateProblem[]> }): Router {
  const { pipeline, metrics, readyCacheMs, isDraining } = options;
  const router = Router();
  let last: { at: number; ok: boolean; body: Record<string, unknown> } | undefined;
  let probing: Promise<{ ok: boolean; body: Record<string, unknown> }> | undefined;

  async function probe(): Promise<{ ok: boolean; body: Record<string, unknown> }> {
    const ids = await pipeline.registry.list();
    const problems = await options.problems();
    const broken = problems.map(({ template, code }) => ({ template, code }));
    const id = ids.find((candidate) => !problems.some((problem) => problem.template === candidate));
    if (!id) return { ok: false, body: ids.length ? { status: 'unavailable', code: broken[0]?.code ?? 'TEMPLATE_INVALID', message: 'no template can be served', broken } : { status: 'unavailable', code: 'TEMPLATE_NOT_FOUND', message: 'no templates to render' } };
    try {
      const result = await pipeline.renderOne({ template: id, data: {}, preset: losslessPreset });
      return { ok: true, body: { status: 'ready', renderMs: Math.round(result.timings.renderMs), broken } };
    } catch (error) {
      return { ok: false, body: { status: 'unavailable', code: isMergeshotError(error) ? error.code : 'INTERNAL', broken } };
    }
  }

  router.get('/healthz', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    if (isDraining()) {
      res.status(503).json({ status: 'draining' });
      return;
    }
    if (!last || Date.now() - last.at > readyCacheMs) {
      probing ??= probe().finally(() => {
        probing = undefined;
      });
      const result = await probing;
      last = { at: Date.now(), ...result };
    }
    res.status(last.ok ? 200 : 503).json(last.body);
  });

  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.end(await metrics.registry.metrics());
  });

  return router;
}
