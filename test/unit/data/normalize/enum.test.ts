import { describe, expect, it } from 'vitest';
import type { FieldSpec } from '../../../../src/template/index.js';
import { normalizeOne as one } from './normalizeOne.js';

describe('enum', () => {
  const plan: FieldSpec = { type: 'enum', values: ['Free', 'Pro', 'Team'] };

  it('matches case-insensitively and returns the listed spelling', () => {
    expect(one(plan, 'pro').value).toBe('Pro');
    expect(one(plan, ' TEAM ').value).toBe('Team');
  });

  it('matches numbers against listed strings', () => {
    expect(one({ type: 'enum', values: ['1', '2', '3'] }, 2).value).toBe('2');
  });

  it('refuses unlisted values and falls back', () => {
    expect(one({ ...plan, fallback: 'Free' }, 'Enterprise')).toEqual({
      value: 'Free',
      warnings: [
        { code: 'invalid', field: 'f', message: 'field "f": expected one of Free, Pro, Team, got text of 10 characters' },
        { code: 'fallback', field: 'f', message: 'field "f": invalid; fallback used' },
      ],
    });
  });
});
