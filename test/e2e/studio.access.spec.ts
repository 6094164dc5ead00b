import { expect, studioPassword as password, test } from './studioFixtures.js';

/**
 * The studio asks for a login on every bind (here a non-loopback one with a password;
 * studio.firstRun.spec.ts: a loopback one without, and its one-time URL). The session cookie is named for the port, HttpOnly
 * and SameSite=Strict; a state-changing API call with the session but without its CSRF token is
 * refused; image URLs stay public.
 */
test.use({ templates: ['fixture:studio-card'], host: '0.0.0.0', loggedIn: false });

test('the studio refuses without a login, and logs in with the studio password', async ({ page, studio }) => {
  const gallery = await page.request.get(`${studio.url}/`, { maxRedirects: 0 });
  expect(gallery.status()).toBe(303);
  expect(gallery.headers().location).toBe('/login?next=%2F');
  const api = await page.request.get(`${studio.url}/api/templates`);
  expect(api.status()).toBe(401);
  // Image URLs are for mail clients: public, as before.
  const image = await page.request.get(`${studio.url}/i/studio-card.png?name=Ada`);
  expect(image.status()).toBe(200);
  expect(image.headers()['content-type']).toBe('image/png');

  await page.goto('/templates/studio-card');
  await expect(page).toHaveURL(/\/login\?next=%2Ftemplates%2Fstudio-card$/);
  await page.getByLabel('Studio password or API key').fill('wrong password, long enough');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toContainText('not valid');

  await page.getByLabel('Studio password or API key').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/templates\/studio-card$/);
  await expect(page.locator('.preview-stage img')).toBeVisible();
  const [cookie] = (await page.context().cookies()).filter((c) => c.name === `mergeshot_studio_${new URL(studio.url).port}`);
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
});

test('a state-changing call with the session but without the CSRF token is refused', async ({ page, studio }) => {
  await page.goto('/login');
  await page.getByLabel('Studio password or API key').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.locator('.gallery')).toBeVisible();

  const body = { template: 'studio-card', data: { name: 'Ada' } };
  // The page's cookies ride along on page.request: a forged cross-site POST looks like this.
  const forged = await page.request.post(`${studio.url}/api/render`, { data: body });
  expect(forged.status()).toBe(403);
  expect((await forged.json()) as unknown).toMatchObject({ error: { code: 'CSRF_INVALID' } });
  const wrong = await page.request.post(`${studio.url}/api/render`, { data: body, headers: { 'X-CSRF-Token': 'guessed' } });
  expect(wrong.status()).toBe(403);

  const token = await page.locator('meta[name="csrf-token"]').getAttribute('content');
  const real = await page.request.post(`${studio.url}/api/render`, { data: body, headers: { 'X-CSRF-Token': token! } });
  expect(real.status()).toBe(200);
  expect(real.headers()['content-type']).toBe('image/png');

  // Logging out ends the session on the server: the old cookie, replayed, no longer opens the API.
  const name = `mergeshot_studio_${new URL(studio.url).port}`;
  const [session] = (await page.context().cookies()).filter((c) => c.name === name);
  expect((await page.request.get(`${studio.url}/api/templates`, { headers: { Cookie: `${name}=${session!.value}` } })).status()).toBe(200);
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  expect((await page.request.get(`${studio.url}/api/templates`, { headers: { Cookie: `${name}=${session!.value}` } })).status()).toBe(401);
});
