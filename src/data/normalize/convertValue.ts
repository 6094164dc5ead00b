import type { FieldSpec } from '../../template/index.js';
import type { Conversion } from '../fallbacks.js';
import { convertBoolean } from './boolean.js';
import { convertColor } from './color.js';
import { convertDate, declaredDateInput } from './date.js';
import { convertEnum } from './enum.js';
import { convertImage } from './image.js';
import { convertNumber, parseNumberInput, type DecimalSeparator } from './number.js';
import { convertText } from './text.js';

/** What the converters need from the caller's options, resolved once per record or check. */
export interface ConvertContext {
  readonly defaultMaxLength: number;
  /** Resolved on first use: most templates have no number field. */
  decimalSeparator(): DecimalSeparator;
  /** The template's locale: month names of a declared date pattern. */
  readonly locale: string | undefined;
}

/** Converts a present, non-missing value to the field's type. */
export function convertValue(field: string, spec: FieldSpec, value: unknown, context: ConvertContext): Conversion {
  switch (spec.type) {
    case 'text':
      return convertText(field, value, spec.maxLength ?? context.defaultMaxLength);
    case 'number':
      // A declared `input` says how the column writes numbers; else the template's locale does.
      return convertNumber(value, (spec.input === undefined ? undefined : parseNumberInput(spec.input)) ?? context.decimalSeparator());
    case 'date':
      return convertDate(value, declaredDateInput(spec.input, context.locale));
    case 'boolean':
      return convertBoolean(value);
    case 'enum':
      return convertEnum(value, spec.values ?? []);
    case 'color':
      return convertColor(value);
    case 'image':
      return convertImage(value);
  }
}
