import type Handlebars from 'handlebars';
import { codeElement, codeOptions, drawCode, type CodeCollector } from './codes.js';
import { initialsOf } from './initials.js';

/**
 * The documented helper set. Registered only on a registry's own Handlebars environment
 * (never the package-wide instance), so two pipelines cannot leak helpers into each other.
 * Helpers return plain strings: Handlebars escapes them like any other value.
 */
type HelperOptions = Handlebars.HelperOptions;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function graphemes(value: string): string[] {
  return Array.from(segmenter.segment(value), (s) => s.segment);
}

function localeOf(options: HelperOptions | undefined): string {
  const locale: unknown = options?.data?.root?.locale ?? options?.data?.locale;
  return typeof locale === 'string' && locale ? locale : 'en-US';
}

/** Handlebars passes its options object as the last argument; strip it from variadic helpers. */
function args(values: unknown[]): { list: unknown[]; options: HelperOptions | undefined } {
  const last = values[values.length - 1] as HelperOptions | undefined;
  const isOptions = typeof last === 'object' && last !== null && 'hash' in last && 'data' in last;
  return { list: isOptions ? values.slice(0, -1) : values, options: isOptions ? last : undefined };
}

function text(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

const dateStyles = ['full', 'long', 'medium', 'short'] as const;

function parseIsoDate(value: unknown): Date | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export const helpers = {
  eq: (a: unknown, b: unknown) => a === b,
  ne: (a: unknown, b: unknown) => a !== b,
  gt: (a: unknown, b: unknown) => Number(a) > Number(b),
  lt: (a: unknown, b: unknown) => Number(a) < Number(b),
  and: (...values: unknown[]) => args(values).list.every(Boolean),
  or: (...values: unknown[]) => args(values).list.some(Boolean),
  not: (value: unknown) => !value,

  upper: (value: unknown, options?: HelperOptions) => text(value).toLocaleUpperCase(localeOf(options)),
  lower: (value: unknown, options?: HelperOptions) => text(value).toLocaleLowerCase(localeOf(options)),
  /** Title-cases words written in one case; leaves mixed case alone ("McDonald", "van der Berg"). */
  title: (value: unknown, options?: HelperOptions) => {
    const locale = localeOf(options);
    return text(value).replace(/\p{L}[\p{L}\p{M}'’]*/gu, (word) =>
      word === word.toLocaleLowerCase(locale) || word === word.toLocaleUpperCase(locale)
        ? word.charAt(0).toLocaleUpperCase(locale) + word.slice(1).toLocaleLowerCase(locale)
        : word,
    );
  },
  /**
   * Up to two initials, of the first and the last name, as each script abbreviates a name
   * (src/template/initials.ts): "Zoë Ñúñez" → "ZÑ", "प्रिया" → "प्रि", "محمد عبد الرحمن" → "م‌ع",
   * "김민준" → "김". A name without any letter ("😍", "١٢٣", "!!!") gives "", so a template can
   * show its placeholder instead of an empty disc.
   */
  initials: (value: unknown, options?: HelperOptions) => initialsOf(text(value), localeOf(options)),
  /** Cuts to `length` graphemes with an ellipsis; never splits an emoji or a combining sequence. */
  truncate: (value: unknown, length: unknown) => {
    const parts = graphemes(text(value));
    const max = Math.max(1, Number(length) || 0);
    return parts.length <= max ? parts.join('') : `${parts.slice(0, max - 1).join('').trimEnd()}…`;
  },
  /** Grapheme count, for `style="--chars: {{len name}}"` so CSS can size text to its length. */
  len: (value: unknown) => graphemes(text(value)).length,

  formatDate: (value: unknown, style: unknown, options?: HelperOptions) => {
    const { list, options: opts } = args([style, options]);
    const date = parseIsoDate(value);
    if (!date) return text(value);
    const chosen = dateStyles.find((s) => s === list[0]) ?? 'long';
    return new Intl.DateTimeFormat(localeOf(opts), { dateStyle: chosen, timeZone: 'UTC' }).format(date);
  },
  formatNumber: (value: unknown, digits: unknown, options?: HelperOptions) => {
    const { list, options: opts } = args([digits, options]);
    const number = Number(value);
    if (value === null || value === '' || !Number.isFinite(number)) return text(value);
    const fraction = typeof list[0] === 'number' ? list[0] : undefined;
    return new Intl.NumberFormat(localeOf(opts), fraction === undefined ? {} : { minimumFractionDigits: fraction, maximumFractionDigits: fraction }).format(number);
  },
  currency: (value: unknown, code: unknown, options?: HelperOptions) => {
    const { list, options: opts } = args([code, options]);
    const number = Number(value);
    if (value === null || value === '' || !Number.isFinite(number)) return text(value);
    const currency = typeof list[0] === 'string' && /^[A-Z]{3}$/.test(list[0]) ? list[0] : 'USD';
    return new Intl.NumberFormat(localeOf(opts), { style: 'currency', currency }).format(number);
  },
  /** A template asset's URL; refuses to climb out of the template folder. */
  asset: (value: unknown) => {
    const path = text(value).replace(/^\/+/, '');
    if (path.split('/').some((part) => part === '..' || part === '')) return '';
    return `assets/${path.split('/').map(encodeURIComponent).join('/')}`;
  },
} as const;

const fitTags = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'div', 'span']);

/** Handlebars' entities count as the one character they stand for. */
function visibleLength(html: string): number {
  return graphemes(html.replace(/<[^>]*>/g, '').replace(/&(?:#\d+|#x[\da-f]+|\w+);/gi, '.')).length;
}

/**
 * `{{fit "name" tag="h1" class="name"}}`: the one fitting recipe (styles/fit.css). It writes the
 * container, the element with its field, `dir="auto"`, the shrink-after-layout marker and the
 * value's length for the container-query size, so no template spells those out by hand:
 *
 *   <div class="fit-box"><h1 class="name fit-clamp" dir="auto" data-field="name" data-fit style="--chars: 12">…</h1></div>
 *
 * `lines=1` makes a one-line ellipsis (fit-line) instead of a clamp; `box="course-box"` adds a
 * class to the container; `box=false` leaves the container to the template. As a block, `{{#fit "firstName" tag="h1"}}Welcome, <bdi>{{firstName}}</bdi>!{{/fit}}`
 * fits the whole text and counts its visible characters; without a field name it fits fixed copy.
 * The smallest size is the element's `--fit-min`, for the CSS and the in-page shrink alike.
 */
function fitHelper(env: typeof Handlebars): Handlebars.HelperDelegate {
  return function (this: unknown, ...values: unknown[]) {
    const { list, options } = args(values);
    const field = typeof list[0] === 'string' ? list[0] : undefined;
    const hash = (options?.hash ?? {}) as Record<string, unknown>;
    const tag = String(hash.tag ?? 'div');
    if (!fitTags.has(tag)) throw new Error(`fit: tag="${tag.slice(0, 20)}" is not one of ${[...fitTags].join(', ')}.`);
    if (field !== undefined && !/^[A-Za-z_][\w-]*$/.test(field)) throw new Error(`fit: "${field.slice(0, 40)}" is not a field name; write {{fit "name"}} with the field's name in quotes.`);
    const context = (this ?? {}) as Record<string, unknown>;
    const content = options?.fn ? options.fn(this) : env.escapeExpression(text(field === undefined ? '' : context[field]));
    const classes = [hash.class, Number(hash.lines) === 1 ? 'fit-line' : 'fit-clamp'].filter(Boolean).map((c) => env.escapeExpression(String(c))).join(' ');
    const fieldAttr = field === undefined ? '' : ` data-field="${field}"`;
    const element = `<${tag} class="${classes}" dir="auto"${fieldAttr} data-fit style="--chars: ${visibleLength(content)}">${content}</${tag}>`;
    if (hash.box === false) return new env.SafeString(element);
    const box = typeof hash.box === 'string' && hash.box ? `${env.escapeExpression(hash.box)} fit-box` : 'fit-box';
    return new env.SafeString(`<div class="${box}">${element}</div>`);
  };
}

/**
 * `{{qr ticketId}}` and `{{barcode sku type="ean13"}}` (src/template/codes.ts): an inline SVG in a
 * `<span data-mergeshot-code>` the template sizes with CSS. A value the symbology cannot encode
 * gives the field's fallback (warning `fallback`), else no code at all (warning `invalid`).
 * The field is the helper's argument path (the registry compiles with trackIds).
 */
function codeHelper(env: typeof Handlebars, helper: 'qr' | 'barcode'): Handlebars.HelperDelegate {
  return function (...values: unknown[]) {
    const { list, options } = args(values);
    const settings = codeOptions(helper, (options?.hash ?? {}) as Record<string, unknown>);
    const collector = options?.data?.mergeshot as CodeCollector | undefined;
    const id: unknown = (options as { ids?: unknown[] } | undefined)?.ids?.[0];
    const field = typeof id === 'string' && /^[A-Za-z_][\w-]*$/.test(id) ? id : undefined;
    const value = text(list[0]).trim();
    if (value === '') return '';
    let drawn = drawCode(value, settings);
    if ('invalid' in drawn) {
      const fallback = field === undefined ? '' : text(collector?.fallbacks[field]).trim();
      const again = fallback && fallback !== value ? drawCode(fallback, settings) : drawn;
      const subject = field === undefined ? `${helper}: the value` : `field "${field}"`;
      if ('invalid' in again) {
        collector?.warnings.push({ code: 'invalid', ...(field ? { field } : {}), message: `${subject} is not a valid ${settings.symbology}: ${drawn.invalid}; no code drawn` });
        return '';
      }
      collector?.warnings.push({ code: 'fallback', ...(field ? { field } : {}), message: `${subject} is not a valid ${settings.symbology}: ${drawn.invalid}; the fallback's code is drawn` });
      drawn = again;
    }
    const index = collector?.codes.length ?? 0;
    collector?.codes.push({ index, symbology: settings.symbology, expected: drawn.expected, moduleFraction: drawn.moduleFraction, ...(field ? { field } : {}) });
    return new env.SafeString(codeElement(drawn, settings.symbology, index, settings.className));
  };
}

export const helperNames = [...Object.keys(helpers), 'fit', 'qr', 'barcode'];

export function registerHelpers(env: typeof Handlebars): void {
  for (const [name, helper] of Object.entries(helpers)) env.registerHelper(name, helper as Handlebars.HelperDelegate);
  env.registerHelper('fit', fitHelper(env));
  env.registerHelper('qr', codeHelper(env, 'qr'));
  env.registerHelper('barcode', codeHelper(env, 'barcode'));
}
