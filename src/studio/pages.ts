/**
 * The studio's HTML: one shell per view, filled by the browser modules. The only dynamic parts
 * are the CSRF token and a template id (escaped); everything else the page shows comes from
 * the JSON API and goes into the DOM as text.
 */

export type StudioView = { readonly kind: 'gallery' } | { readonly kind: 'template'; readonly templateId: string };

const styles = ['studio', 'campaign', 'visual'];

export function studioPage(view: StudioView, csrf: string): string {
  const title = view.kind === 'gallery' ? 'Templates' : view.templateId;
  return document(
    `${title} · mergeshot studio`,
    [`<meta name="csrf-token" content="${escapeHtml(csrf)}">`, `<meta name="studio-view" content="${escapeHtml(view.kind)}">`, ...(view.kind === 'template' ? [`<meta name="studio-template" content="${escapeHtml(view.templateId)}">`] : []), '<script type="module" src="/studio/ui/main.js"></script>'],
    `<header class="topbar"><a class="brand" href="/">mergeshot <span>studio</span></a><nav aria-label="Studio"><a href="/"${view.kind === 'gallery' ? ' aria-current="page"' : ''}>Templates</a></nav><form method="post" action="/logout" class="logout"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><button type="submit" class="quiet">Log out</button></form></header>
<main id="main" tabindex="-1"><p class="loading">Loading…</p></main>
<div id="announcer" class="visually-hidden" role="status" aria-live="polite"></div>`,
  );
}

export function loginPage(options: { readonly next: string; readonly failed: boolean; readonly retryAfterSeconds?: number }): string {
  const error = options.retryAfterSeconds !== undefined
    ? `Too many failed logins from this address: try again in ${options.retryAfterSeconds} s.`
    : options.failed
      ? 'That password, key or login link is not valid (a login link works once, and expires).'
      : undefined;
  return document(
    'Log in · mergeshot studio',
    [],
    `<main id="main" class="login">
<h1>mergeshot <span>studio</span></h1>
<form method="post" action="/login">
<input type="hidden" name="next" value="${escapeHtml(options.next)}">
<label for="secret">Studio password or API key</label>
<input id="secret" name="secret" type="password" autocomplete="current-password" required autofocus${error ? ' aria-invalid="true" aria-describedby="login-error"' : ''}>
${error ? `<p id="login-error" class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<button type="submit">Log in</button>
<p class="hint">Set a password with MERGESHOT_STUDIO_PASSWORD, or use the one-time login URL the server printed at start (restart it for a new one).</p>
</form>
</main>`,
  );
}

function document(title: string, head: readonly string[], body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
${styles.map((name) => `<link rel="stylesheet" href="/studio/ui/${name}.css">`).join('\n')}
${head.join('\n')}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
${body}
</body>
</html>
`;
}

function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
