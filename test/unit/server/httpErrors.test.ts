import { describe, expect, it } from 'vitest';
import { builtInPresets, encodedSize, resolvePresets } from '../../../src/encode/index.js';
import { FormatAmbiguousError, type AmbiguousColumn } from '../../../src/data/index.js';
import { DataError, MergeshotError, RenderError, TemplateError } from '../../../src/errors/index.js';
import { toErrorResponse } from '../../../src/server/httpErrors.js';
import { loggablePath } from '../../../src/server/index.js';

describe('toErrorResponse', () => {
  it('maps codes to statuses with the public message, never paths or stacks', () => {
    expect(toErrorResponse(new TemplateError('TEMPLATE_NOT_FOUND', 'template "x" not found: no template.json in /srv/templates/x'))).toEqual({ status: 404, body: { error: { code: 'TEMPLATE_NOT_FOUND', message: 'No such template.' } } });
    expect(toErrorResponse(new RenderError('RENDER_FAILED', 'the render failed: at /srv/x.ts:1'))).toEqual({ status: 500, body: { error: { code: 'RENDER_FAILED', message: 'The render failed.' } } });
    expect(toErrorResponse(new RenderError('POOL_QUEUE_FULL', 'queue full'))).toEqual({ status: 503, body: { error: { code: 'POOL_QUEUE_FULL', message: 'Too many renders are waiting.' } }, retryAfter: 5 });
    expect(toErrorResponse(new Error('boom at /srv/secret.ts'))).toEqual({ status: 500, body: { error: { code: 'INTERNAL', message: 'Internal error.' } } });
  });

  it('keeps request errors own message and field', () => {
    expect(toErrorResponse(new MergeshotError('USAGE', 'preset "email" makes jpeg images', { field: 'preset' }))).toEqual({ status: 400, body: { error: { code: 'USAGE', message: 'preset "email" makes jpeg images', field: 'preset' } } });
    expect(toErrorResponse(new MergeshotError('SIGNATURE_INVALID', 'bad signature for key 2')).body.error.message).toBe('Forbidden.');
  });

  it('gives a request error its hint, the fix, and keeps every other error’s hint inside', () => {
    expect(toErrorResponse(new MergeshotError('PRESET_UNKNOWN', 'no preset "fax"', { hint: 'Available presets: email, og.' })).body.error).toEqual({ code: 'PRESET_UNKNOWN', message: 'no preset "fax"', hint: 'Available presets: email, og.' });
    expect(toErrorResponse(new RenderError('RENDER_FAILED', 'the render failed', { hint: 'see /srv/logs' })).body.error).toEqual({ code: 'RENDER_FAILED', message: 'The render failed.' });
  });

  it('answers FORMAT_AMBIGUOUS with 422, the question as data and the fix in the API’s words', () => {
    const column: AmbiguousColumn = {
      field: 'amount',
      column: 'Montant',
      kind: 'number',
      formats: ['1.234,50', '1,234.50'],
      samples: [{ value: '1,234', readings: [{ format: '1.234,50', value: '1.234' }, { format: '1,234.50', value: '1234' }] }],
    };
    const { status, body } = toErrorResponse(new FormatAmbiguousError([column]));
    expect(status).toBe(422);
    expect(body.error).toMatchObject({ code: 'FORMAT_AMBIGUOUS', field: 'amount', columns: [column], hint: 'Send the request again with "formats": {"amount":"1.234,50"} (or "amount": "1,234.50"), or set "input" on the field in template.json.' });
    expect(body.error.message).toContain('column "Montant" (field "amount"): the numbers can be read two ways');
    // The question is carried by the error's class, not its code: a bare FORMAT_AMBIGUOUS has none.
    expect(toErrorResponse(new DataError('FORMAT_AMBIGUOUS', 'two ways')).body.error).toEqual({ code: 'FORMAT_AMBIGUOUS', message: 'two ways' });
  });
});

describe('loggablePath', () => {
  it('drops query strings and tokens', () => {
    expect(loggablePath('/i/mini.png?name=Ada&s=abc')).toBe('/i/mini.png');
    expect(loggablePath('/t/AbCdEf_-123.jpg?x=1')).toBe('/t/[token].jpg');
  });
});

describe('encodedSize (what a fallback or a URL snippet is sized by)', () => {
  it('predicts the dimensions a preset gives a template size, the way encodeImage makes them', () => {
    expect(encodedSize(builtInPresets.email, 400, 200)).toEqual({ width: 1200, height: 600 });
    expect(encodedSize(builtInPresets.og, 400, 200)).toEqual({ width: 1200, height: 630 });
    expect(encodedSize(builtInPresets.original, 400, 200)).toEqual({ width: 400, height: 200 });
    expect(encodedSize(builtInPresets.whatsapp, 1000, 4000)).toEqual({ width: 400, height: 1600 });
    // A box with fit "inside" keeps the aspect ratio: the old server-side rule made it 800×800.
    const inside = resolvePresets({ thumb: { extends: 'web', width: 800, height: 800, fit: 'inside' } }).thumb!;
    expect(encodedSize(inside, 400, 200)).toEqual({ width: 800, height: 400 });
  });
});
