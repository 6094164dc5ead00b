import { describe, expect, it } from 'vitest';
import { chromiumArgs, resolveExecutable } from '../../../src/render/index.js';

describe('browser choice', () => {
  it('names the setting to fix when an explicit path does not exist', async () => {
    await expect(resolveExecutable('/nonexistent/chrome')).rejects.toMatchObject({
      code: 'BROWSER_UNAVAILABLE',
      message: expect.stringContaining('MERGESHOT_CHROMIUM'),
    });
  });

  it('uses the bundled Chromium by default', async () => {
    const choice = await resolveExecutable(undefined);
    expect(choice.source).toBe('bundled');
  });

  it('keeps web security on and never runs single-process', () => {
    expect(chromiumArgs).not.toContain('--single-process');
    expect(chromiumArgs).not.toContain('--disable-web-security');
    expect(chromiumArgs).toContain('--host-resolver-rules=MAP * ~NOTFOUND');
    // Deterministic pixels: see render.determinism.test.ts.
    expect(chromiumArgs).toContain('--disable-partial-raster');
  });
});
