import { describe, expect, it } from 'vitest';
import { isUnreplacedMergeTag, removeMergeTags } from '../../../src/data/mergeTags.js';

/** [value, platform or reason]. */
const tags: readonly (readonly [string, string])[] = [
  ['*|FNAME|*', 'Mailchimp'],
  ['*|MERGE1|*', 'Mailchimp numbered merge field'],
  ['*|LNAME|*', 'Mailchimp'],
  ['*|DATE:d/m/y|*', 'Mailchimp with argument'],
  ['  *|FNAME|*  ', 'surrounding spaces are trimmed'],
  ['*|FNAME|* *|LNAME|*', 'two Mailchimp tags'],
  ['*|FNAME|**|LNAME|*', 'two adjacent tags'],
  ['{{ first_name }}', 'Handlebars / Liquid'],
  ['{{first_name}}', 'Liquid without spaces'],
  ['{{firstName}}', 'Instantly / Iterable / Lemlist'],
  ['{{contact.FIRSTNAME}}', 'Brevo'],
  ['{{ contact.firstname }}', 'HubSpot'],
  ["{{ person.first_name|default:'' }}", 'Klaviyo with filter'],
  ['{{ first_name | default: "there" }}', 'Liquid default filter'],
  ['{{customer.first_name}}', 'customer.io'],
  ['{{${first_name}}}', 'Braze attribute'],
  ['{{lead.First Name:default=edit me}}', 'Marketo'],
  ['{{Recipient.FirstName}}', 'Pardot'],
  ['{{var:firstname:"there"}}', 'Mailjet'],
  ['{{- first_name -}}', 'Liquid whitespace control'],
  ['{{{x}}}', 'Handlebars triple-stash'],
  ['{{=x}}', 'doT / Mustache'],
  ["{{ personalization_token('contact.firstname', 'there') }}", 'HubL function'],
  ['{% if first_name %}', 'Liquid statement'],
  ['{{first_name}} {{last_name}}', 'two Liquid tags'],
  ['{{last_name}}, {{first_name}}', 'two tags with a comma'],
  ['%%FirstName%%', 'Salesforce Marketing Cloud'],
  ['%%First Name%%', 'SFMC attribute with a space'],
  ['%%=v(@x)=%%', 'AMPscript inline'],
  ['%%[SET @name = AttributeValue("FirstName")]%%', 'AMPscript block'],
  ['%FIRSTNAME%', 'ActiveCampaign'],
  ['%first_name%', 'SendGrid legacy substitution'],
  ['[FirstName]', 'bracketed placeholder'],
  ['[First Name]', 'bracketed placeholder with a space'],
  ['[firstname,fallback=there]', 'Campaign Monitor with fallback'],
  ['[Redacted]', 'bracketed single word: treated as a tag by design'],
  ['[[FirstName]]', 'Iterable data feed / double brackets'],
  ['[[FIRSTNAME OR "there"]]', 'Constant Contact'],
  ['{FirstName}', 'GMass'],
  ['{!Contact.FirstName}', 'Salesforce'],
  ['{contactfield=firstname}', 'Mautic'],
  ['${firstName}', 'template literal'],
  ['#{name}', 'Ruby interpolation'],
  ['$[LF:First Name]$', 'Zoho Campaigns'],
  ['<%= first_name %>', 'ERB / EJS'],
  ['«FirstName»', 'Word mail merge'],
  ['<<FirstName>>', 'Word-style chevrons'],
  ['@FIRSTNAME@', 'dotdigital'],
  ['#recipient:name#', 'Moosend'],
  ['-first_name-', 'SendGrid legacy dash substitution'],
];

/** [value, why it is a real value]. */
const notTags: readonly (readonly [string, string])[] = [
  ['Ana Lima', 'a name'],
  ['Ana [sic] Lima', 'a sentence containing [sic]'],
  ['50% off', 'a single percent sign'],
  ['100%', 'a trailing percent sign'],
  ['20%-30%', 'a range of percentages'],
  ['%FIRST NAME%', 'ActiveCampaign tags have no spaces'],
  ['A&B', 'an ampersand'],
  ['ana.lima@example.com', 'an e-mail address'],
  ['ANA@EXAMPLE.COM', 'an upper-case e-mail address'],
  ['@ana_lima', 'a handle'],
  ['#ff0000', 'a colour'],
  ['#hashtag', 'a hashtag without closing #'],
  ['C#', 'a language name'],
  ['$100', 'an amount'],
  ['Hi *|FNAME|*', 'a sentence containing a tag'],
  ['{{first_name}} is great', 'a tag followed by words'],
  ['{{ first_name }', 'an unbalanced tag'],
  ['{{}}', 'empty braces'],
  ['{{ }}', 'braces holding only a space'],
  ['{}', 'an empty object'],
  ['{"name": "Ana"}', 'a JSON object'],
  ['[]', 'empty brackets'],
  ['[1]', 'a footnote marker'],
  ['[she/her]', 'pronouns in brackets'],
  ['(Ana)', 'parentheses'],
  ['|*FNAME*|', 'reversed Mailchimp delimiters'],
  ['*FNAME*', 'Markdown emphasis'],
  ['<b>Ana</b>', 'HTML'],
  ['<img src=x onerror=alert(1)>', 'an XSS probe (kept as text, not a tag)'],
  ["O'Brien", 'an apostrophe'],
  ['« Le Petit Bistro »', 'French quotation marks around a name'],
  ['¯\\_(ツ)_/¯', 'a shrug'],
  ['-', 'a dash alone'],
  ['- Ana -', 'dashes around a name with spaces'],
  ['a-b-c', 'hyphenated text'],
  ['%%', 'two percent signs'],
  ['*|', 'half a Mailchimp tag'],
  ['Zoë "Zo" Okafor', 'quotes'],
  ['{{first_name}} Lima', 'a tag then a real surname'],
  ['R&D {Team}', 'text before braces'],
];

describe('isUnreplacedMergeTag', () => {
  it.each(tags)('%j is a tag (%s)', (value) => {
    expect(isUnreplacedMergeTag(value)).toBe(true);
  });

  it.each(notTags)('%j is not a tag (%s)', (value) => {
    expect(isUnreplacedMergeTag(value)).toBe(false);
  });

  it('treats a value longer than 500 characters as prose', () => {
    expect(isUnreplacedMergeTag(`{{${'a'.repeat(150)}}} `.repeat(4))).toBe(false);
  });

  it('answers quickly on input built to make a backtracking regex explode', () => {
    // Several syntaxes match "{{{a}}}", so a naive alternation backtracks 2^n times on the "?".
    // No timing assertion: a regression would hang this test until the suite's timeout.
    expect(isUnreplacedMergeTag(`${'{{{a}}}'.repeat(70)}?`)).toBe(false);
    expect(isUnreplacedMergeTag(`${'{a}{{a}}'.repeat(60)}?`)).toBe(false);
  });
});

describe('removeMergeTags', () => {
  it.each([
    ['*|FNAME|* Lovelace', 'Lovelace'],
    ['Ada *|LNAME|*', 'Ada'],
    ['Dear {{ contact.FIRSTNAME }}, hello', 'Dear, hello'],
    ['%%First Name%% Okafor', 'Okafor'],
    ['Ada [[LastName]]', 'Ada'],
    ['{% if vip %}VIP{% endif %} guest', 'VIP guest'],
    ['Hello ${firstName}!', 'Hello!'],
    ['Zoho $[LF:First Name]$ Lima', 'Zoho Lima'],
    ['<%= name %> Smith', 'Smith'],
  ])('%j → %j', (value, rest) => {
    expect(removeMergeTags(value)).toBe(rest);
  });

  it.each(['Jean-Luc Picard', '«Bonjour» Marie', 'R&D {Team}', '50% off 20%', 'Ana [sic] Lima', 'Zoë "Zo" Okafor', '#hashtag# text', 'a@B@c', 'plain'])('leaves %j alone', (value) => {
    expect(removeMergeTags(value)).toBeUndefined();
  });

  it('answers quickly on input built to make a backtracking regex explode', () => {
    expect(removeMergeTags(`${'{{{a}}}'.repeat(70)}?`)).toBe('?');
  });
});
