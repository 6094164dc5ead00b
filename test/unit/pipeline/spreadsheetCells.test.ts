import { describe, expect, it } from 'vitest';
import { spreadsheetSafe } from '../../../src/pipeline/spreadsheetCells.js';

describe('spreadsheetSafe', () => {
  it.each([
    ['=HYPERLINK("http://x","y")', `'=HYPERLINK("http://x","y")`],
    ["+cmd|' /C calc'!A0", `'+cmd|' /C calc'!A0`],
    ['@SUM(A1:A9)', `'@SUM(A1:A9)`],
    ['-2+3', `'-2+3`],
    ['\t=1+1', `'\t=1+1`],
    ['\r=1+1', `'\r=1+1`],
  ])('prefixes %j with a single quote', (value, expected) => {
    expect(spreadsheetSafe(value)).toBe(expected);
  });

  it.each(['Ada Lovelace', 'Card for Ada', '', ' =1+1', 'a=b', "'quoted", '1200', 'https://img.example.com/i/mini.png?name=%3D1', 'محمد', '\n=1'])(
    'leaves %j as it is',
    (value) => {
      expect(spreadsheetSafe(value)).toBe(value);
    },
  );
});
