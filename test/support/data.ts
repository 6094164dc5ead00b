/**
 * A CSV whose data line 4 opens a quote it never closes: rows 1–3 read (line 2 is blank), row 4
 * and everything after it cannot be, and every front end must say so with this reason.
 */
export const unreadableCsv = 'name,vip\nAda,yes\n\nGrace,no\nBen,"no\nCara,no\n';
export const unreadableReason = 'row 4: a quoted field opens in this row and is never closed, so this row and every line after it could not be read. Close the quote or remove it.';
