import juice from 'juice';
import { normalizeRecord, type NormalizedRecord } from '../data/index.js';
import { extensionOf, targetOf, type Pipeline } from '../pipeline/index.js';
import { mergeDocument, type LoadedTemplate } from '../template/index.js';
import { imagePath } from './signing.js';

/**
 * The image URL of a template with each field filled by an email platform's merge tag,
 * URL-encoded by the platform's own filter where it has one, and a ready `<img>` snippet
 * (`mergeshot url`, the studio's URL builder). The platform replaces the tags per recipient at
 * send time; a tag it leaves unreplaced (a contact without the property) reaches the server as
 * text and is recognised there, so the image shows the field's fallback instead of "*|FNAME|*".
 */

export const espNames = ['mailchimp', 'klaviyo', 'hubspot', 'brevo', 'sendgrid', 'braze', 'customerio', 'activecampaign', 'instantly', 'salesforce'] as const;
export type EspName = (typeof espNames)[number];

interface EspSyntax {
  readonly label: string;
  /** The tag inside a URL: with the platform's URL-encoding filter where one exists. */
  readonly url: (field: string) => string;
  /** The tag in text (alt): the platform HTML-escapes it. */
  readonly text: (field: string) => string;
  readonly note: string;
}

const upper = (field: string) => field.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
const lower = (field: string) => field.toLowerCase();

const espSyntaxes: Readonly<Record<EspName, EspSyntax>> = {
  mailchimp: { label: 'Mailchimp', url: (f) => `*|URL:${upper(f)}|*`, text: (f) => `*|${upper(f)}|*`, note: 'Audience merge tags are at most 10 characters (FNAME, LNAME…): rename the tags to your audience fields. *|URL:…|* URL-encodes the value.' },
  klaviyo: { label: 'Klaviyo', url: (f) => `{{ person|lookup:'${f}'|urlencode }}`, text: (f) => `{{ person|lookup:'${f}' }}`, note: "Custom profile properties by name; for built-ins use {{ first_name|urlencode }} and the like." },
  hubspot: { label: 'HubSpot', url: (f) => `{{ contact.${lower(f)}|urlencode }}`, text: (f) => `{{ contact.${lower(f)} }}`, note: 'Contact property internal names are lowercase (firstname, company).' },
  brevo: { label: 'Brevo', url: (f) => `{{ contact.${upper(f)} | urlencode }}`, text: (f) => `{{ contact.${upper(f)} }}`, note: 'Contact attributes are uppercase (FIRSTNAME, LASTNAME).' },
  sendgrid: { label: 'SendGrid (dynamic templates)', url: (f) => `{{${f}}}`, text: (f) => `{{${f}}}`, note: 'Handlebars has no URL-encoding helper: send values URL-safe in dynamic_template_data, or use `mergeshot urls` with a token.' },
  braze: { label: 'Braze', url: (f) => `{{custom_attribute.\${${f}} | url_param_escape}}`, text: (f) => `{{custom_attribute.\${${f}}}}`, note: 'Built-in attributes are {{${first_name}}}, {{${last_name}}}, …' },
  customerio: { label: 'Customer.io', url: (f) => `{{ customer.${f} | url_encode }}`, text: (f) => `{{ customer.${f} }}`, note: 'Liquid; attribute names as stored on the person.' },
  activecampaign: { label: 'ActiveCampaign', url: (f) => `%${upper(f)}%`, text: (f) => `%${upper(f)}%`, note: 'Personalization tags are inserted as-is (no URL-encoding filter); the server decodes what the mail client sends.' },
  instantly: { label: 'Instantly', url: (f) => `{{${f}}}`, text: (f) => `{{${f}}}`, note: 'Lead variables by name; no URL-encoding filter.' },
  salesforce: { label: 'Salesforce Marketing Cloud', url: (f) => `%%=URLEncode(AttributeValue('${f}'),1,1)=%%`, text: (f) => `%%${f}%%`, note: 'AMPscript; attribute names as in the sendable data extension.' },
};

/** Each platform's name as people know it, for pickers. */
export const espLabels: Readonly<Record<EspName, string>> = Object.fromEntries(espNames.map((name) => [name, espSyntaxes[name].label])) as Record<EspName, string>;

export interface UrlCommandOptions {
  readonly esp: EspName;
  readonly base: string;
  readonly preset?: string | undefined;
  readonly size?: string | undefined;
}

export interface MergeTagUrl {
  readonly url: string;
  readonly img: string;
  readonly note: string;
}

export async function buildMergeTagUrl(pipeline: Pipeline, templateId: string, options: UrlCommandOptions): Promise<MergeTagUrl> {
  const template = await pipeline.registry.get(templateId);
  const syntax = espSyntaxes[options.esp];
  // Email images: without --preset, the one the server gives a .jpg URL of this template.
  const { presetName, preset, size } = targetOf(pipeline, template, { preset: options.preset, size: options.size, ext: options.preset ? undefined : 'jpg' });
  const ext = extensionOf(preset.format);

  // Tags are inserted raw: the platform replaces them before any client parses the URL.
  const params = Object.keys(template.manifest.fields).map((field) => `${field}=${syntax.url(field)}`);
  if (options.preset) params.push(`preset=${encodeURIComponent(presetName)}`);
  if (options.size) params.push(`size=${encodeURIComponent(size.name)}`);
  const url = `${options.base.replace(/\/+$/, '')}${imagePath(template.id, ext)}?${params.join('&')}`;

  const width = preset.displayWidth ?? size.width;
  const height = Math.round((width * size.height) / size.width);
  const alt = altWithTags(template, (field) => syntax.text(field), size.name);
  const styled = juice(`<style>img.mergeshot { display: block; border: 0; outline: none; text-decoration: none; width: 100%; max-width: ${width}px; height: auto; }</style><img class="mergeshot" src="SRC" width="${width}" height="${height}" alt="ALT">`, { removeStyleTags: true, applyHeightAttributes: false, applyWidthAttributes: false });
  const img = styled
    .replace(' class="mergeshot"', '')
    .replace('src="SRC"', `src="${escapeAttribute(url)}"`)
    .replace('alt="ALT"', `alt="${escapeAttribute(alt)}"`)
    .trim();
  return { url, img, note: `${syntax.label}: ${syntax.note}` };
}

/**
 * The manifest's alt text with text fields shown as the platform's tags and every other field
 * at its fallback (a date helper cannot format a merge tag).
 */
function altWithTags(template: LoadedTemplate, tag: (field: string) => string, size: string): string {
  const fields = template.manifest.fields;
  let record: Record<string, unknown>;
  try {
    record = { ...normalizeRecord(fields, {}).record };
  } catch {
    record = Object.fromEntries(Object.keys(fields).map((field) => [field, null]));
  }
  for (const [field, spec] of Object.entries(fields)) if (spec.type === 'text' || spec.type === 'enum') record[field] = tag(field);
  try {
    return mergeDocument(template, record as NormalizedRecord, { size }).alt;
  } catch {
    return template.manifest.name;
  }
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
