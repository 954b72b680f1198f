import { describe, expect, it } from 'vitest';
import {
  badCursor,
  cursorQuery,
  decodeCursor,
  decodeTimeCursor,
  encodeCursor,
  pageByTime,
  paginate,
  type Keyset,
  type TimePageRequest,
} from '../../../services/kit/http/cursor.ts';
import { ProblemError } from '../../../services/kit/http/problem.ts';

const ID = '3f1c2b9e-8d4a-4c7b-9e2f-1a2b3c4d5e6f';
const raw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function refusal(fn: () => unknown): ProblemError {
  try {
    fn();
  } catch (err) {
    return err as ProblemError;
  }
  throw new Error('the cursor was accepted');
}

describe('keyset cursors', () => {
  it('round-trips time and rank cursors', () => {
    const cursors: Keyset[] = [
      { order: 'time', createdAt: '2026-01-31 12:34:56.123456+00', id: ID },
      { order: 'time', createdAt: '2026-01-31T12:34:56.123456Z', id: ID },
      { order: 'rank', rank: '0.0607927', id: ID },
      { order: 'rank', rank: '1e-20', id: ID },
    ];
    for (const cursor of cursors) expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it('keeps the encoding of the time cursors clients already hold', () => {
    expect(encodeCursor({ order: 'time', createdAt: '2026-01-31 12:34:56+00', id: ID })).toBe(raw(['2026-01-31 12:34:56+00', ID]));
  });

  it('still decodes the search cursors issued with one-letter keys', () => {
    expect(decodeCursor(raw({ m: 'r', k: '0.5', id: ID }))).toEqual({ order: 'rank', rank: '0.5', id: ID });
    expect(decodeCursor(raw({ m: 't', k: '2026-01-31 12:34:56+00', id: ID }))).toEqual({
      order: 'time',
      createdAt: '2026-01-31 12:34:56+00',
      id: ID,
    });
  });

  it('checks the timestamp of every time cursor', () => {
    for (const bad of ['yesterday', '2026-01-31', "2026-01-31 00:00:00'; DROP TABLE x; --", '']) {
      const err = refusal(() => decodeCursor(raw([bad, ID])));
      expect(err).toBeInstanceOf(ProblemError);
      expect(err.status).toBe(422);
      expect(err.body('/x').errors).toEqual([{ location: 'query.cursor', message: 'not a cursor from this API' }]);
    }
    expect(refusal(() => decodeCursor(raw({ m: 't', k: 'soon', id: ID }))).status).toBe(422);
  });

  it('refuses ranks that are not numbers PostgreSQL can hold', () => {
    for (const bad of ['NaN', 'Infinity', '1e39', '0x10', '1;'])
      expect(refusal(() => decodeCursor(raw({ rank: bad, id: ID }))).status).toBe(422);
  });

  it('refuses anything else this API did not produce', () => {
    const forgeries = [
      'not base64 json',
      raw(null),
      raw('text'),
      raw([]),
      raw(['2026-01-31 12:34:56+00']),
      raw(['2026-01-31 12:34:56+00', 'not-a-uuid']),
      raw(['2026-01-31 12:34:56+00', ID, 'extra']),
      raw({ m: 'x', k: '1', id: ID }),
      raw({ rank: 1, id: ID }),
      raw({ rank: '1' }),
      raw([`2026-01-31 12:34:56${'0'.repeat(80)}`, ID]),
    ];
    for (const forged of forgeries) expect(refusal(() => decodeCursor(forged)).status).toBe(422);
  });

  it('refuses a rank cursor where only a time cursor fits', () => {
    expect(refusal(() => decodeTimeCursor(encodeCursor({ order: 'rank', rank: '0.5', id: ID }))).status).toBe(422);
    expect(decodeTimeCursor(raw(['2026-01-31 12:34:56+00', ID]))).toEqual({ order: 'time', createdAt: '2026-01-31 12:34:56+00', id: ID });
  });

  it('turns data exceptions of a cursor-fed query into the same 422', async () => {
    const dataException = Object.assign(new Error('date/time field value out of range'), { code: '22008' });
    await expect(cursorQuery(() => Promise.reject(dataException))).rejects.toMatchObject({ status: 422 });
    const other = Object.assign(new Error('deadlock'), { code: '40P01' });
    await expect(cursorQuery(() => Promise.reject(other))).rejects.toBe(other);
    await expect(cursorQuery(async () => 7)).resolves.toBe(7);
    expect(badCursor().status).toBe(422);
  });

  it('pages rows fetched with limit + 1', () => {
    const rows = [1, 2, 3].map((n) => ({ id: ID, at: `2026-01-0${n} 00:00:00+00` }));
    const keyset = (row: (typeof rows)[number]): Keyset => ({ order: 'time', createdAt: row.at, id: row.id });
    const full = paginate(rows, 2, keyset);
    expect(full.page).toEqual(rows.slice(0, 2));
    expect(decodeCursor(full.next!)).toEqual({ order: 'time', createdAt: rows[1]!.at, id: ID });
    expect(paginate(rows, 3, keyset)).toEqual({ page: rows, next: null });
    expect(paginate([], 3, keyset)).toEqual({ page: [], next: null });
  });

  it('pages a time-ordered listing: the cursor decoded for the fetch, limit + 1 rows asked, the next cursor from the last row', async () => {
    const rows = [1, 2, 3].map((n) => ({ id: ID, cursor_ts: `2026-01-0${n} 00:00:00+00` }));
    const asked: TimePageRequest[] = [];
    const fetch = async (request: TimePageRequest) => (asked.push(request), rows.slice(0, request.limit));
    const first = await pageByTime({ limit: 2 }, fetch);
    expect(asked[0]).toEqual({ limit: 3, after: undefined });
    expect(first.page).toEqual(rows.slice(0, 2));
    const second = await pageByTime({ limit: 2, cursor: first.next! }, fetch);
    expect(asked[1]).toEqual({ limit: 3, after: { order: 'time', createdAt: rows[1]!.cursor_ts, id: ID } });
    expect(second.next).not.toBeNull();
    expect(await pageByTime({ limit: 5 }, fetch)).toEqual({ page: rows, next: null });
    // A forged cursor never reaches the fetch; an impossible value the fetch meets is the same 422.
    await expect(pageByTime({ limit: 2, cursor: 'not-a-cursor' }, fetch)).rejects.toMatchObject({ status: 422 });
    expect(asked).toHaveLength(3);
    const outOfRange = Object.assign(new Error('date/time field value out of range'), { code: '22008' });
    await expect(pageByTime({ limit: 2 }, () => Promise.reject(outOfRange))).rejects.toMatchObject({ status: 422 });
  });
});
