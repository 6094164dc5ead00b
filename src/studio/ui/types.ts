/**
 * The shapes the studio reads from the JSON API. Declared here, not imported from the server:
 * the browser code imports nothing from src/ but types, and these are the API's public contract.
 */

export type FieldType = 'text' | 'number' | 'date' | 'boolean' | 'enum' | 'color' | 'image';

export interface FieldSpec {
  readonly type: FieldType;
  readonly label?: string;
  readonly fallback?: string | number | boolean | null;
  readonly maxLength?: number;
  readonly values?: readonly string[];
  readonly format?: string;
  readonly required?: boolean;
}

export interface SizeSpec {
  readonly width: number;
  readonly height: number;
}

export interface PresetInfo {
  readonly format: 'png' | 'jpeg' | 'webp';
  readonly description?: string;
}

/** GET /api/templates: one entry per template; a template that does not load has `error`. */
export interface TemplateSummary {
  readonly id: string;
  readonly name?: string;
  readonly description?: string;
  readonly version?: string;
  readonly width?: number;
  readonly height?: number;
  readonly sizes?: Readonly<Record<string, SizeSpec>>;
  readonly access?: 'open' | 'signed' | 'token';
  readonly defaultPreset?: string;
  readonly fields?: readonly string[];
  readonly error?: { readonly code: string; readonly message?: string };
}

/** GET /api/templates/<id>. */
export interface TemplateInfo extends Omit<TemplateSummary, 'fields'> {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly width: number;
  readonly height: number;
  readonly sizes: Readonly<Record<string, SizeSpec>>;
  readonly fields: Readonly<Record<string, FieldSpec>>;
  readonly samples: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly presets: Readonly<Record<string, PresetInfo>>;
  readonly alt?: string;
}

/** A record the studio renders: a sample, or one of `mergeshot check`'s generated edge cases. */
export interface NamedRecord {
  readonly name: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** GET /api/templates/<id>/cases. */
export interface TemplateCases {
  readonly records: readonly NamedRecord[];
  /** Fields template.html or alt uses that the manifest does not declare: always empty in renders. */
  readonly undeclared: readonly string[];
}

/** GET /api/templates/<id>/problem: why a template does not load. */
export interface TemplateProblem {
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly excerpt?: string;
}

/** One `mergeshot check` finding: the stage's own type (studio may import below itself, never the server). */
export type { Finding } from '../../qa/index.js';

/** Where the studio is: what each page module receives. */
export interface StudioContext {
  /** Called with the ids that changed when template files or shared styles change on disk. */
  onTemplatesChanged(listener: (ids: readonly string[]) => void): () => void;
}
