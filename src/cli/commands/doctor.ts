import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { isMergeshotError } from '../../errors/index.js';
import { losslessPreset, type Pipeline } from '../../pipeline/index.js';
import { systemFontFiles } from '../../render/index.js';

/** `mergeshot doctor`: which browser, which fonts, and whether a real render works. */
export async function runDoctor(pipeline: Pipeline, out: NodeJS.WritableStream): Promise<boolean> {
  let ok = true;
  const line = (text: string) => out.write(`${text}\n`);
  try {
    const browser = await pipeline.browserVersion();
    line(`browser:   Chromium ${browser.version} (${browser.source}) at ${browser.path}`);
  } catch (error) {
    ok = false;
    line(`browser:   NOT AVAILABLE — ${isMergeshotError(error) ? error.message : String(error)}`);
  }
  const require = createRequire(import.meta.url);
  const fontsDir = dirname(dirname(require.resolve('@fontsource/inter/package.json')));
  const fonts = await readdir(fontsDir).catch(() => []);
  line(`fonts:     ${fonts.length ? fonts.join(', ') : 'NONE FOUND'} (bundled, from ${fontsDir})`);
  const fallback = systemFontFiles();
  const missing = fallback.filter((file) => !existsSync(file));
  if (missing.length > 0) ok = false;
  line(`fallback:  ${missing.length ? `MISSING ${missing.join(', ')}` : `Noto Sans, Chromium's only system font (${dirname(dirname(fallback[0]!))})`}`);
  line(`templates: ${pipeline.config.templatesDir}`);
  line(`presets:   ${Object.keys(pipeline.presets).join(', ')}`);
  const ids = await pipeline.registry.list();
  if (ids.length === 0) {
    line('render:    no templates to test with');
    return false;
  }
  for (const id of ids) {
    try {
      const template = await pipeline.registry.get(id);
      const sample = Object.values(template.manifest.samples ?? {})[0] ?? {};
      const result = await pipeline.renderOne({ template: id, data: sample, preset: losslessPreset });
      line(`render:    ${id} ok — ${result.width}×${result.height} ${result.format}, ${result.bytes.length} bytes, ${Math.round(result.timings.renderMs)} ms in Chromium`);
    } catch (error) {
      ok = false;
      line(`render:    ${id} FAILED — ${isMergeshotError(error) ? `${error.code}: ${error.message}` : String(error)}`);
    }
  }
  line(ok ? 'doctor: all good' : 'doctor: problems found');
  return ok;
}
