/** Shared pieces of the opaque keyset cursors (content search, course listing). */
import { problem } from '../../kit/http/problem.ts';

/** A PostgreSQL timestamptz as text (ISO DateStyle), as the cursors carry it. */
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)?$/;

export const badCursor = () =>
  problem.unprocessable('The cursor is invalid', [{ location: 'query.cursor', message: 'not a cursor from this API' }]);

/** A forged cursor can still hold an impossible value (a 13th month): PostgreSQL data exceptions (class 22) become 422. */
export async function cursorQuery<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (/^22/.test((err as { code?: string }).code ?? '')) throw badCursor();
    throw err;
  }
}
