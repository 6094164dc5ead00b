import type { StudioContext } from './types.js';

/**
 * The hot-reload stream (GET /api/events): one EventSource per page. EventSource reconnects
 * by itself after a server restart; the listeners then hear `["*"]`, since edits made while
 * the connection was down went unannounced.
 */
export function connectEvents(): StudioContext {
  const listeners = new Set<(ids: readonly string[]) => void>();
  const notify = (ids: readonly string[]) => {
    for (const listener of listeners) listener(ids);
  };
  const source = new EventSource('/api/events');
  let opened = false;
  source.addEventListener('open', () => {
    if (opened) notify(['*']);
    opened = true;
    document.documentElement.dataset.events = 'open';
  });
  source.addEventListener('templates', (event) => {
    const { ids } = JSON.parse((event as MessageEvent<string>).data) as { ids: string[] };
    notify(ids);
  });
  addEventListener('pagehide', () => source.close());
  return {
    onTemplatesChanged(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** True when a change event concerns `id`. */
export function concerns(ids: readonly string[], id: string): boolean {
  return ids.includes('*') || ids.includes(id);
}
