import { h, replace } from './dom.js';
import type { FieldSpec, TemplateInfo } from './types.js';

/**
 * The record form, generated from the manifest's fields: the control each type needs (a text
 * box with its maxLength counter, number, date picker, enum select, checkbox, colour, image URL
 * or upload), pre-filled from a sample, with a raw-JSON view of the same record.
 */

export type RecordValues = Record<string, unknown>;

export interface RecordForm {
  readonly element: HTMLElement;
  values(): RecordValues;
  set(values: Readonly<RecordValues>): void;
}

/** Uploads become data: URLs in the record; the API's body cap (1 MB by default) bounds them. */
const uploadMaxBytes = 700 * 1024;

export function createRecordForm(info: TemplateInfo, undeclared: readonly string[], onChange: (values: RecordValues) => void): RecordForm {
  const inputs = new Map<string, () => unknown>();
  const setters = new Map<string, (value: unknown) => void>();
  const fieldsBox = h('div', { class: 'form' });
  const raw = h('textarea', { id: 'raw-json', rows: 12, spellcheck: 'false', 'aria-describedby': 'raw-json-status' });
  const rawStatus = h('p', { id: 'raw-json-status', class: 'muted' }, 'Edit the record as JSON; valid JSON is applied as you type.');
  const rawBox = h('div', { class: 'field', hidden: true }, h('label', { for: 'raw-json' }, 'Record as JSON'), raw, rawStatus);
  const rawToggle = h('button', { type: 'button', class: 'quiet', 'aria-pressed': 'false', 'aria-controls': 'raw-json-box' }, 'Raw JSON');
  rawBox.id = 'raw-json-box';
  const sampleSelect = h('select', { id: 'sample-select' }, ...Object.keys(info.samples).map((name) => h('option', { value: name }, name)), h('option', { value: '' }, '(empty record)'));

  const values = (): RecordValues => {
    const record: RecordValues = {};
    for (const [field, read] of inputs) {
      const value = read();
      if (value !== undefined && value !== '') record[field] = value;
    }
    return record;
  };
  const changed = () => {
    raw.value = JSON.stringify(values(), null, 2);
    onChange(values());
  };
  const set = (record: Readonly<RecordValues>) => {
    for (const [field, write] of setters) write(record[field]);
    raw.value = JSON.stringify(values(), null, 2);
  };

  for (const [field, spec] of Object.entries(info.fields)) {
    const { element, read, write } = control(field, spec, changed);
    inputs.set(field, read);
    setters.set(field, write);
    fieldsBox.append(element);
  }
  if (undeclared.length > 0) {
    fieldsBox.append(
      h(
        'div',
        { class: 'field undeclared', role: 'note' },
        h('strong', {}, `Used but not declared: ${undeclared.join(', ')}`),
        h('span', { class: 'muted' }, 'template.html or alt uses these fields, but template.json does not declare them, so they are always empty. Declare them (with a fallback) or correct the names.'),
      ),
    );
  }

  raw.addEventListener('input', () => {
    try {
      const parsed = JSON.parse(raw.value) as unknown;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      for (const [field, write] of setters) write((parsed as RecordValues)[field]);
      rawStatus.textContent = 'Applied.';
      rawStatus.className = 'muted';
      raw.removeAttribute('aria-invalid');
      onChange(values());
    } catch {
      rawStatus.textContent = 'Not valid JSON (an object of field: value): not applied yet.';
      rawStatus.className = 'error';
      raw.setAttribute('aria-invalid', 'true');
    }
  });
  rawToggle.addEventListener('click', () => {
    const open = rawBox.hidden;
    rawBox.hidden = !open;
    fieldsBox.hidden = open;
    rawToggle.setAttribute('aria-pressed', String(open));
  });
  sampleSelect.addEventListener('change', () => {
    set(info.samples[sampleSelect.value] ?? {});
    onChange(values());
  });

  const element = h(
    'form',
    { class: 'form', 'aria-label': 'Record', onsubmit: ((event: Event) => event.preventDefault()) as EventListener },
    h('div', { class: 'form-tools' }, h('label', { for: 'sample-select' }, 'Start from'), sampleSelect, rawToggle),
    fieldsBox,
    rawBox,
  );
  set(Object.values(info.samples)[0] ?? {});
  return { element, values, set };
}

interface Control {
  readonly element: HTMLElement;
  read(): unknown;
  write(value: unknown): void;
}

function control(field: string, spec: FieldSpec, changed: () => void): Control {
  const id = `field-${field}`;
  const label = h('label', { for: id }, spec.label ?? field);
  const hintParts = [spec.type, spec.required ? 'required' : '', spec.fallback !== undefined && spec.fallback !== null && spec.fallback !== '' ? `fallback “${String(spec.fallback)}”` : ''].filter(Boolean);
  const hint = h('span', { id: `${id}-hint` }, hintParts.join(' · '));
  const meta = h('span', { class: 'meta' }, hint);
  const wrap = (input: HTMLElement, ...extra: HTMLElement[]) => h('div', { class: 'field' }, label, input, ...extra, meta);
  const text = (value: unknown) => (value === undefined || value === null ? '' : String(value));

  switch (spec.type) {
    case 'boolean': {
      const input = h('input', { id, type: 'checkbox', 'aria-describedby': `${id}-hint` });
      input.addEventListener('change', changed);
      return {
        element: h('div', { class: 'field' }, h('span', {}, input, ' ', label), meta),
        read: () => input.checked,
        write: (value) => {
          input.checked = value === true || value === 'true' || value === 'yes' || value === 1;
        },
      };
    }
    case 'enum': {
      const input = h('select', { id, 'aria-describedby': `${id}-hint` }, h('option', { value: '' }, '(empty)'), ...(spec.values ?? []).map((value) => h('option', { value }, value)));
      input.addEventListener('change', changed);
      return { element: wrap(input), read: () => input.value, write: (value) => (input.value = text(value)) };
    }
    case 'color': {
      const input = h('input', { id, type: 'text', inputmode: 'text', placeholder: '#1a73e8', 'aria-describedby': `${id}-hint` });
      const picker = h('input', { type: 'color', 'aria-label': `${spec.label ?? field}: pick a colour` });
      input.addEventListener('input', () => {
        if (/^#[0-9a-f]{6}$/i.test(input.value)) picker.value = input.value;
        changed();
      });
      picker.addEventListener('input', () => {
        input.value = picker.value;
        changed();
      });
      return {
        element: wrap(h('span', { class: 'form-tools' }, input, picker)),
        read: () => input.value,
        write: (value) => {
          input.value = text(value);
          if (/^#[0-9a-f]{6}$/i.test(input.value)) picker.value = input.value;
        },
      };
    }
    case 'image': {
      const input = h('input', { id, type: 'text', inputmode: 'url', placeholder: 'https://… or upload', 'aria-describedby': `${id}-hint` });
      const file = h('input', { type: 'file', accept: 'image/png,image/jpeg,image/webp,image/gif', 'aria-label': `${spec.label ?? field}: upload an image` });
      const status = h('span', { role: 'status' });
      input.addEventListener('input', changed);
      file.addEventListener('change', () => {
        const chosen = file.files?.[0];
        if (!chosen) return;
        if (chosen.size > uploadMaxBytes) {
          status.textContent = `That file is ${Math.round(chosen.size / 1024)} kB; uploads here are capped at ${Math.round(uploadMaxBytes / 1024)} kB. Use an image URL instead.`;
          status.className = 'error';
          return;
        }
        const reader = new FileReader();
        reader.addEventListener('load', () => {
          input.value = String(reader.result);
          status.textContent = `${chosen.name} uploaded.`;
          status.className = 'muted';
          changed();
        });
        reader.readAsDataURL(chosen);
      });
      return { element: wrap(input, file, status), read: () => input.value, write: (value) => (input.value = text(value)) };
    }
    default: {
      const type = spec.type === 'number' ? 'number' : spec.type === 'date' ? 'date' : 'text';
      const input = h('input', { id, type, ...(type === 'number' ? { step: 'any' } : {}), 'aria-describedby': `${id}-hint ${id}-count` });
      const count = h('span', { id: `${id}-count`, 'aria-live': 'polite' });
      const max = spec.maxLength;
      const recount = () => {
        if (spec.type !== 'text') return;
        const length = [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(input.value)].length;
        count.textContent = max ? `${length} / ${max}` : `${length}`;
        count.className = max && length > max ? 'over' : '';
        if (max && length > max) count.textContent += ' (truncated in renders)';
      };
      input.addEventListener('input', () => {
        recount();
        changed();
      });
      meta.append(count);
      return {
        element: wrap(input),
        read: () => (type === 'number' && input.value !== '' ? Number(input.value) : input.value),
        write: (value) => {
          input.value = type === 'date' && typeof value === 'string' ? value.slice(0, 10) : text(value);
          recount();
        },
      };
    }
  }
}

/** Re-renders the form in place (after a template edit changed its fields), keeping the values. */
export function rebuildForm(host: Element, form: RecordForm, next: RecordForm): RecordForm {
  const values = form.values();
  next.set(values);
  replace(host, next.element);
  return next;
}
