import Handlebars from 'handlebars';
import { TemplateError } from '../errors/index.js';

/** Said with every Handlebars syntax error: the usual causes and the fix. */
const syntaxHint = 'an unclosed {{#if}} or {{#each}}, or {{ }} inside an HTML comment, are the usual causes; write \\{{ for a literal {{.';

/** Where and why Handlebars refused a source: line and column 1-based, the reason as Handlebars says it. */
export interface SyntaxFacts {
  readonly line?: number;
  readonly column?: number;
  readonly reason: string;
}

/**
 * The one formatter of a template source Handlebars refuses, for every front end: the
 * registry's compile (what `preview`, `render` and the server report) and `check`'s parse of the
 * source. A syntax error reads `<where>: Parse error on line N: Expecting 'ID', got 'CLOSE'`, its
 * hint says the usual causes, and its facts stay in the detail (line, column, reason) so nobody
 * reads them back out of the message. Anything else (a helper throwing at the forced first
 * render) keeps Handlebars' first line and gets no syntax hint.
 */
export function templateSyntaxError(error: unknown, source: string, where: string): TemplateError {
  const facts = syntaxFacts(error, source);
  if (!facts) return new TemplateError('TEMPLATE_INVALID', `${where}: ${firstLine(error)}`, { source: where }, { cause: error });
  const at = facts.line === undefined ? '' : ` on line ${facts.line}`;
  const detail = { source: where, hint: syntaxHint, reason: facts.reason, ...(facts.line === undefined ? {} : { line: facts.line }), ...(facts.column === undefined ? {} : { column: facts.column }) };
  return new TemplateError('TEMPLATE_INVALID', `${where}: Parse error${at}: ${facts.reason}`, detail, { cause: error });
}

/**
 * Where and why `source` does not parse; undefined when it parses. Handlebars gives a parse
 * error as text only ("Parse error on line 2:", an excerpt, a caret, "Expecting …"), but its
 * parser hands the facts to `yy.parseError`: so the source is parsed again by a parser instance
 * of our own (not the shared one: no global state changes) whose parseError keeps them. A block
 * mismatch ("if doesn't match each") is a Handlebars Exception, which carries its place.
 */
export function syntaxFacts(error: unknown, source: string): SyntaxFacts | undefined {
  const shared = (Handlebars as unknown as { Parser: JisonParser & { Parser: new () => JisonParser } }).Parser;
  // Handlebars fills the shared parser's yy (its AST helpers) on its first parse; this one is
  // harmless and makes sure it was, whatever threw `error`.
  Handlebars.parse('');
  const parser = new shared.Parser();
  let hash: JisonHash | undefined;
  parser.yy = {
    ...shared.yy,
    parseError(message: string, facts: JisonHash) {
      hash = facts;
      throw new Error(message);
    },
  };
  try {
    parser.parse(source);
    return undefined;
  } catch (again) {
    if (hash?.loc) {
      const reason = hash.expected?.length ? `Expecting ${hash.expected.join(', ')}, got '${hash.token ?? 'EOF'}'` : `Unexpected '${hash.token ?? hash.text ?? ''}'`;
      // The location is the last token read; the unexpected one starts where it ends.
      return { line: hash.loc.last_line, column: hash.loc.last_column + 1, reason };
    }
    const located = again as { lineNumber?: unknown; column?: unknown; message?: unknown };
    if (typeof located.lineNumber === 'number' && typeof located.column === 'number' && typeof located.message === 'string') {
      return { line: located.lineNumber, column: located.column + 1, reason: located.message.replace(` - ${located.lineNumber}:${located.column}`, '') };
    }
    return { reason: firstLine(error) };
  }
}

interface JisonHash {
  readonly text?: string;
  readonly token?: string;
  readonly expected?: readonly string[];
  readonly loc?: { readonly last_line: number; readonly last_column: number };
}

interface JisonParser {
  yy: Record<string, unknown>;
  parse(source: string): unknown;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'cannot parse';
}
