/**
 * Opaque keyset cursors: the sort key of the last row of a page and its id, as base64url JSON. Every
 * paginated listing of both APIs encodes and decodes its cursors here, and each decoded cursor is
 * checked before it reaches SQL: a client can only hand back what this module produced.
 *
 * Encodings: a time cursor is `["<timestamptz as text>", "<uuid>"]`, a rank cursor (full-text search)
 * is `{"rank": "<real as text>", "id": "<uuid>"}`. Search cursors issued before this module existed
 * (`{"m": "r"|"t", "k": "<key>", "id": "<uuid>"}`) may still be in clients' hands and still decode.
 */
import { z } from 'zod';
import { problem } from './problem.ts';

export type Keyset = { order: 'time'; createdAt: string; id: string } | { order: 'rank'; rank: string; id: string };
export type TimeKeyset = Extract<Keyset, { order: 'time' }>;

/** A PostgreSQL timestamptz as text (ISO DateStyle or ISO 8601), as the cursors carry it. */
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)?$/;
/** A PostgreSQL real as text. */
const RANK = /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i;
const MAX_KEY_LENGTH = 64;

export const badCursor = () =>
  problem.unprocessable('The cursor is invalid', [{ location: 'query.cursor', message: 'not a cursor from this API' }]);

export function encodeCursor(cursor: Keyset): string {
  const value = cursor.order === 'time' ? [cursor.createdAt, cursor.id] : { rank: cursor.rank, id: cursor.id };
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

const isUuid = (value: unknown): value is string => z.uuid().safeParse(value).success;
const isKey = (value: unknown): value is string => typeof value === 'string' && value.length <= MAX_KEY_LENGTH;

function parse(raw: string): Keyset | undefined {
  const value: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString());
  if (Array.isArray(value)) {
    const [createdAt, id] = value as unknown[];
    return value.length === 2 && isKey(createdAt) && isUuid(id) ? { order: 'time', createdAt, id } : undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const fields = value as Record<string, unknown>;
  if (!isUuid(fields.id)) return undefined;
  if ('rank' in fields) return isKey(fields.rank) ? { order: 'rank', rank: fields.rank, id: fields.id } : undefined;
  // The search cursors issued before this module: {m: 'r' (rank) | 't' (time), k: key, id}.
  if (!isKey(fields.k)) return undefined;
  if (fields.m === 'r') return { order: 'rank', rank: fields.k, id: fields.id };
  if (fields.m === 't') return { order: 'time', createdAt: fields.k, id: fields.id };
  return undefined;
}

/** Decodes a cursor of either order; throws a 422 problem on anything this API did not produce. */
export function decodeCursor(raw: string): Keyset {
  let cursor: Keyset | undefined;
  try {
    cursor = parse(raw);
  } catch {
    cursor = undefined;
  }
  if (!cursor) throw badCursor();
  if (cursor.order === 'time' && !TIMESTAMP.test(cursor.createdAt)) throw badCursor();
  if (cursor.order === 'rank' && (!RANK.test(cursor.rank) || !(Math.abs(Number(cursor.rank)) < 1e38))) throw badCursor();
  return cursor;
}

/** Decodes the cursor of a listing ordered by time; a rank cursor is refused like any other forgery. */
export function decodeTimeCursor(raw: string): TimeKeyset {
  const cursor = decodeCursor(raw);
  if (cursor.order !== 'time') throw badCursor();
  return cursor;
}

/**
 * Runs a query that a cursor fed. A forged cursor can still hold an impossible value (a 13th month):
 * PostgreSQL data exceptions (class 22) become the same 422 as a malformed cursor.
 */
export async function cursorQuery<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (/^22/.test((err as { code?: string }).code ?? '')) throw badCursor();
    throw err;
  }
}

/**
 * One page of rows fetched with `limit + 1`: the extra row only says that there is a next page, whose
 * cursor is the keyset of the page's last row.
 */
export function paginate<R>(rows: R[], limit: number, keysetOf: (row: R) => Keyset): { page: R[]; next: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, next: rows.length > limit && last !== undefined ? encodeCursor(keysetOf(last)) : null };
}

/** What a time-ordered listing's SQL is asked for: one row more than the page, after the cursor's keyset. */
export interface TimePageRequest {
  limit: number;
  after: TimeKeyset | undefined;
}

/**
 * A listing ordered by time (newest first, ties by id), one page of it: decodes the client's cursor,
 * fetches `limit + 1` rows after it (a forged impossible timestamp is the same 422), and returns the
 * page with the next page's cursor. Rows carry their sort key as `cursor_ts` (timestamptz as text).
 */
export async function pageByTime<R extends { cursor_ts: string; id: string }>(
  request: { limit: number; cursor?: string | undefined },
  fetch: (page: TimePageRequest) => Promise<R[]>,
): Promise<{ page: R[]; next: string | null }> {
  const after = request.cursor ? decodeTimeCursor(request.cursor) : undefined;
  const rows = await cursorQuery(() => fetch({ limit: request.limit + 1, after }));
  return paginate(rows, request.limit, (row) => ({ order: 'time', createdAt: row.cursor_ts, id: row.id }));
}
