import { expect, test } from './studioFixtures.js';

/**
 * A first run with nothing configured, on loopback (`npm start`): the studio still asks for a
 * login, and the one-time URL printed on the terminal is the one click that logs in; it works
 * once, and the JSON log never holds it.
 */
test.use({ templates: ['fixture:studio-card'], studioPassword: null, loggedIn: false });

test('the printed one-time URL logs in and lands on the studio, once; the JSON log never holds it', async ({ page, studio, browser }) => {
  // Printed just after the `listening` line the fixture waited for.
  await expect.poll(() => studio.terminal.join('\n')).toContain('login?token=');
  await expect.poll(() => studio.logLines.join('\n')).toContain('one-time login link was issued');
  const printed = studio.terminal.join('\n');
  const link = /Studio: open (http:\/\/127\.0\.0\.1:\d+\/login\?token=([\w-]{32}))/.exec(printed);
  expect(link, printed).not.toBeNull();
  const [url, token] = [link![1]!, link![2]!];
  // The structured log says a link was issued, and never holds it.
  const logs = studio.logLines.map((line) => JSON.parse(line) as { msg?: string; studio?: string });
  expect(logs.some((entry) => entry.msg?.includes('one-time login link was issued'))).toBe(true);
  expect(studio.logLines.join('\n')).not.toContain(token);

  // A loopback visitor is asked to log in too.
  await page.goto('/');
  await expect(page).toHaveURL(/\/login\?next=%2F$/);
  // One click: the printed URL logs in and lands on the gallery.
  await page.goto(url);
  await expect(page).toHaveURL(`${studio.url}/`);
  await expect(page.locator('.gallery')).toBeVisible();

  // Spent: another browser opening it is refused.
  const other = await browser.newContext();
  try {
    const again = await other.newPage();
    const answer = await again.goto(url);
    expect(answer!.status()).toBe(401);
    await expect(again.getByRole('alert')).toContainText('not valid');
  } finally {
    await other.close();
  }
  // Neither did the visits put it in the log.
  expect(studio.logLines.join('\n')).not.toContain(token);
});
