import Handlebars from 'handlebars';
import { helperNames, templateSyntaxError } from '../template/index.js';

type Node = hbs.AST.Node;

/** Names mergeshot puts in every merge context beside the fields (merge.ts). */
const provided = new Set(['size', 'locale']);
const builtIns = new Set(['if', 'unless', 'each', 'with', 'lookup', 'log']);
/** Helpers that print their first argument's value, so an empty field prints nothing. */
const valuePrinters = new Set(['upper', 'lower', 'title', 'initials', 'truncate', 'formatDate', 'formatNumber', 'currency']);

export interface FieldUse {
  readonly field: string;
  readonly line: number;
  /** Offset of the mustache in the source. */
  readonly offset: number;
  readonly end: number;
  /** Printed as text by a plain {{field}} or a value helper ({{upper field}}), not as a helper's argument. */
  readonly printed: boolean;
  /** Inside a block whose parameters name this field ({{#if field}}): never rendered empty. */
  readonly guarded: boolean;
}

export interface Unescaped {
  readonly line: number;
  readonly text: string;
}

export interface Content {
  /** The raw text of the HTML between mustaches. */
  readonly text: string;
  readonly line: number;
  readonly offset: number;
}

export interface TemplateUsage {
  readonly uses: readonly FieldUse[];
  readonly unescaped: readonly Unescaped[];
  readonly contents: readonly Content[];
}

/**
 * What a Handlebars source uses, from its AST (Handlebars.parse): fields in mustaches, helper
 * parameters and sub-expressions, the fit helper's quoted field name ({{fit "name"}}), and
 * block parameters ({{#if vip}}). Inside {{#each}} and {{#with}} the context is the item, so
 * only `../x` and `@root.x` reach fields there; `size`, `locale` and @-data are mergeshot's.
 */
export function usageOf(source: string, where: string): TemplateUsage {
  let program: hbs.AST.Program;
  try {
    program = Handlebars.parse(source);
  } catch (error) {
    // The same message, hint and facts as a render's (template/syntaxError.ts).
    throw templateSyntaxError(error, source, where);
  }
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === '\n') lineStarts.push(i + 1);
  const offsetOf = (position: hbs.AST.Position) => (lineStarts[position.line - 1] ?? 0) + position.column;
  const uses: FieldUse[] = [];
  const unescaped: Unescaped[] = [];
  const contents: Content[] = [];

  /** A path as a field name at context depth `scope` (0 at the root), or undefined. */
  const fieldOfPath = (path: hbs.AST.PathExpression, scope: number, blockParams: readonly string[]): string | undefined => {
    if (path.data) return path.parts[0] === 'root' && path.parts.length > 1 ? path.parts[1] : undefined;
    const head = path.parts[0];
    if (head === undefined || path.depth !== scope || blockParams.includes(head)) return undefined;
    return provided.has(head) ? undefined : head;
  };

  const walk = (node: Node, scope: number, guards: readonly string[], blockParams: readonly string[]): void => {
    switch (node.type) {
      case 'Program':
        for (const statement of (node as hbs.AST.Program).body) walk(statement, scope, guards, [...blockParams, ...((node as hbs.AST.Program).blockParams ?? [])]);
        return;
      case 'ContentStatement': {
        const content = node as hbs.AST.ContentStatement;
        contents.push({ text: String(content.original), line: content.loc.start.line, offset: offsetOf(content.loc.start) });
        return;
      }
      case 'MustacheStatement': {
        const mustache = node as hbs.AST.MustacheStatement;
        const at = { line: mustache.loc.start.line, offset: offsetOf(mustache.loc.start), end: offsetOf(mustache.loc.end) };
        if (!mustache.escaped) unescaped.push({ line: at.line, text: source.slice(at.offset, at.end) });
        call(mustache, scope, guards, blockParams, at, true);
        return;
      }
      case 'BlockStatement': {
        const block = node as hbs.AST.BlockStatement;
        const at = { line: block.loc.start.line, offset: offsetOf(block.loc.start), end: offsetOf(block.loc.end) };
        const named = call(block, scope, guards, blockParams, at, false);
        const helper = block.path.type === 'PathExpression' ? (block.path as hbs.AST.PathExpression).original : '';
        const inner = helper === 'each' || helper === 'with' ? scope + 1 : scope;
        if (block.program) walk(block.program, inner, [...guards, ...named], blockParams);
        if (block.inverse) walk(block.inverse, scope, [...guards, ...named], blockParams);
        return;
      }
      default:
        return; // comments, partials (templates have none), decorators
    }
  };

  /** Records the fields a mustache, block or sub-expression uses; returns them. */
  const call = (
    node: hbs.AST.MustacheStatement | hbs.AST.BlockStatement | hbs.AST.SubExpression,
    scope: number,
    guards: readonly string[],
    blockParams: readonly string[],
    at: { line: number; offset: number; end: number },
    isMustache: boolean,
  ): string[] => {
    const named: string[] = [];
    const add = (field: string | undefined, printed: boolean) => {
      if (field === undefined) return;
      named.push(field);
      uses.push({ field, ...at, printed, guarded: guards.includes(field) });
    };
    const path = node.path as hbs.AST.PathExpression;
    const name = path.type === 'PathExpression' ? path.original : '';
    const isHelper = node.params.length > 0 || (node.hash?.pairs.length ?? 0) > 0 || builtIns.has(name) || helperNames.includes(name) || node.type !== 'MustacheStatement';
    if (!isHelper && path.type === 'PathExpression') add(fieldOfPath(path, scope, blockParams), isMustache);
    const argument = (param: hbs.AST.Expression, index: number) => {
      if (param.type === 'PathExpression') add(fieldOfPath(param as hbs.AST.PathExpression, scope, blockParams), isMustache && index === 0 && valuePrinters.has(name));
      else if (param.type === 'SubExpression') named.push(...call(param as hbs.AST.SubExpression, scope, guards, blockParams, at, false));
      else if (param.type === 'StringLiteral' && name === 'fit' && index === 0) add((param as hbs.AST.StringLiteral).value, false);
    };
    node.params.forEach(argument);
    for (const pair of node.hash?.pairs ?? []) argument(pair.value, -1);
    return named;
  };

  walk(program, 0, [], []);
  return { uses, unescaped, contents };
}

