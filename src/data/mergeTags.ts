/**
 * Recognises merge tags that an email platform left unreplaced in an export ("*|FNAME|*",
 * "{{ first_name }}", "%%FirstName%%"…). Rendering one on an image ("Hi *|FNAME|*!") is the
 * classic personalisation failure, so normalize treats such a value as missing and uses the
 * field's fallback instead.
 *
 * Precision over recall: the WHOLE trimmed value must be one tag, or several tags separated by
 * spaces or commas ("*|FNAME|* *|LNAME|*"). A sentence that merely contains tag-like text
 * ("Ana [sic]", "50% off", "Hi {{name}}") is a real value and is kept.
 *
 * Inside a longer value ("*|FNAME|* Lovelace"), only the syntaxes no real text uses are looked
 * for (removeMergeTags): Mailchimp's *|…|*, {{…}}, {%…%}, %%…%%, [[…]], $[…]$, ${…} and <%…%>.
 * Single brackets, braces, percent signs, dashes and «…» are everyday text there ("Jean-Luc",
 * "«Bonjour»", "R&D {Team}"), so they count only as a whole value.
 *
 * Deliberate choice: a value that is only a bracketed word ("[FirstName]", "[Redacted]",
 * "[sic]") IS treated as a tag. Several platforms (Campaign Monitor, Lemlist exports, mail-merge
 * add-ons) use "[FirstName]", and a bracketed placeholder is never a name the recipient should
 * see on an image; the fallback is the better rendering in both cases. Brackets holding
 * anything but a name-like word ("[she/her]", "[1]") are not tags.
 */

/** Each entry: one platform's syntax, anchored nowhere (the caller anchors the whole value). */
const tagSyntaxes: readonly string[] = [
  // Mailchimp: *|FNAME|*, *|MERGE1|*, *|DATE:d/m/y|*
  String.raw`\*\|[^|*\s][^|]{0,99}\|\*`,
  // Handlebars triple-stash {{{x}}}
  String.raw`\{\{\{\s*[^{}\s][^{}]{0,199}\}\}\}`,
  // Handlebars / Liquid / HubL / Klaviyo / Braze / customer.io / SendGrid / Brevo / Marketo:
  // {{ first_name }}, {{contact.FIRSTNAME}}, {{ x|default:'' }}, {{=x}}, {{${first_name}}},
  // {{lead.First Name:default=edit me}}. One nested {…} level is allowed for Braze.
  String.raw`\{\{\s*(?:[^{}\s]|\{[^{}]*\})(?:[^{}]|\{[^{}]*\}){0,199}\}\}`,
  // Liquid / Jinja / HubL statements: {% if x %}…
  String.raw`\{%\s*[^%\s][^%]{0,199}%\}`,
  // Salesforce Marketing Cloud: %%FirstName%%, %%First Name%%, %%=v(@x)=%%, %%[ … ]%%
  String.raw`%%(?:=[^%]{1,200}=|\[[^\]]{1,200}\]|[A-Za-z_][\w .\-]{0,99})%%`,
  // ActiveCampaign %FIRSTNAME%, SendGrid legacy %first_name%: no spaces, so "50% off 20%" is not one
  String.raw`%[A-Za-z][\w.\-]{0,99}%`,
  // Constant Contact / Mailjet / Iterable: [[FirstName]], [[FIRSTNAME OR "there"]], [[data:x:""]]
  String.raw`\[\[[^\[\]]{1,200}\]\]`,
  // Campaign Monitor and mail-merge add-ons: [FirstName], [First Name], [firstname,fallback=there]
  String.raw`\[[A-Za-z][\w .\-:]{0,99}(?:,[^\[\]]{0,100})?\]`,
  // Zoho Campaigns: $[LF:First Name]$
  String.raw`\$\[[^\[\]]{1,100}\]\$`,
  // JS-style templates ${firstName}, Ruby-style #{name}
  String.raw`[$#]\{[^{}]{1,200}\}`,
  // Salesforce {!Contact.FirstName}, GMass {FirstName}, Mautic {contactfield=firstname}
  String.raw`\{[A-Za-z!$][^{}]{0,200}\}`,
  // ERB / EJS: <%= name %>
  String.raw`<%[=\-#]?[^%]{1,200}%>`,
  // Word mail merge: «FirstName», <<FirstName>> (field names have no spaces in Word)
  String.raw`«[A-Za-z_][\w.]{0,99}»`,
  String.raw`<<[A-Za-z_][\w. ]{0,99}>>`,
  // dotdigital @FIRSTNAME@ (upper case only, so it never matches an e-mail address)
  String.raw`@[A-Z][A-Z0-9_]{0,99}@`,
  // Moosend #recipient:name#
  String.raw`#[A-Za-z][\w:.]{0,99}#`,
  // SendGrid legacy substitution -first_name-
  String.raw`-[A-Za-z][A-Za-z0-9_]{0,99}-`,
];

const tag = `(?:${tagSyntaxes.join('|')})`;
/**
 * `(?=(tag))\1` makes each tag match atomic: JavaScript has no possessive quantifiers, and
 * without it a run like "{{{a}}}{{{a}}}…?" (several syntaxes match the same text) backtracks
 * exponentially. A tag never starts with a space or a comma, so the separators stay unambiguous.
 */
const wholeValue = new RegExp(`^(?=(${tag}))\\1(?:[\\s,]*(?=(${tag}))\\2)*$`);

/** Longer values are prose, not tags; the cap also bounds regex work on huge cells. */
const maxTagValueLength = 500;

/** True when the whole trimmed value is one or more unreplaced merge tags. */
export function isUnreplacedMergeTag(value: string): boolean {
  const trimmed = value.trim();
  if (trimmed.length < 3 || trimmed.length > maxTagValueLength) return false;
  return wholeValue.test(trimmed);
}

/** The syntaxes looked for inside a longer value: none of them occurs in real names, places or prose. */
const insideSyntaxes: readonly string[] = [tagSyntaxes[0]!, tagSyntaxes[1]!, tagSyntaxes[2]!, tagSyntaxes[3]!, tagSyntaxes[4]!, tagSyntaxes[6]!, tagSyntaxes[8]!, String.raw`\$\{[^{}]{1,200}\}`, tagSyntaxes[11]!];
const insideTag = new RegExp(`(?=(${insideSyntaxes.join('|')}))\\1`, 'g');

/**
 * The value without the unreplaced merge tags it holds inside ("*|FNAME|* Lovelace" →
 * "Lovelace"), white space around them folded; undefined when it holds none. A whole-value tag
 * is isUnreplacedMergeTag's case (the fallback), not this one.
 */
export function removeMergeTags(value: string): string | undefined {
  if (value.length > maxTagValueLength * 4) return undefined;
  insideTag.lastIndex = 0;
  if (!insideTag.test(value)) return undefined;
  return value
    .replace(insideTag, ' ')
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/ ([,.!?;:])/g, '$1')
    .replace(/^[\s,]+|[\s,]+$/g, '');
}
