import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../services/kit/http/routes.ts';
import { ProblemError } from '../../../services/kit/http/problem.ts';
import { backoffDelay } from '../../../services/content-bridge/analytics/forwarder.ts';
import { canonicalJson } from '../../../services/kit/canonical.ts';
import { canonicalEventJson, prepareEvents, type LearningEvent } from '../../../services/content-bridge/analytics/model.ts';
import {
  contentIdFromIri,
  durationSeconds,
  isSupportedXapiVersion,
  VERB_EVENT_TYPES,
} from '../../../services/content-bridge/analytics/xapi.ts';

const STUDENT_ID = '0b9f1c2e-1111-4222-8333-444455556666';
const principal = (roles: Principal['roles']): Principal => ({
  userId: STUDENT_ID,
  username: 'u',
  roles,
  tokenId: 'j',
  expiresAt: 0,
  token: 't',
});

const event = (overrides: Record<string, unknown> = {}) => ({
  event_type: 'progress_update',
  user_id: STUDENT_ID,
  timestamp: '2025-03-01T10:00:00+02:00',
  data: { progress_percentage: 40 },
  ...overrides,
});

function problemOf(fn: () => unknown): ProblemError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProblemError) return err;
    throw err;
  }
  throw new Error('expected a problem');
}

describe('prepareEvents', () => {
  it('normalises: generated UUID ids, UTC timestamps, lower-case UUIDs, nulls dropped', () => {
    const { events, ids } = prepareEvents(
      event({ event_id: 'ABCDEF01-2345-4678-89AB-CDEF01234567', context: { course_id: 'C1', browser: null }, session_id: null }),
      principal(['student']),
    );
    expect(ids).toEqual(['abcdef01-2345-4678-89ab-cdef01234567']);
    expect(events[0]!.event).toEqual({
      event_id: 'abcdef01-2345-4678-89ab-cdef01234567',
      event_type: 'progress_update',
      user_id: STUDENT_ID,
      timestamp: '2025-03-01T08:00:00.000Z',
      context: { course_id: 'C1' },
      data: { progress_percentage: 40 },
    });
    const generated = prepareEvents(event(), principal(['student']));
    expect(generated.ids[0]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('writes the same canonical JSON as the generic canonicaliser, for every combination of optional members', () => {
    const context = { browser: 'Firefox "x"', content_id: 'c-1', course_id: 'k', device_type: 'tablet', ip_address: '::1' };
    const data = {
      custom_fields: { z: [1, { b: 2, a: null }], '10': 'x', '9': true, é: -0 },
      progress_percentage: 12.5,
      score: -3,
      time_spent_seconds: 0,
    };
    for (let mask = 0; mask < 1 << 10; mask++) {
      const pick = <T extends object>(obj: T, offset: number) =>
        Object.fromEntries(Object.entries(obj).filter((_, i) => mask & (1 << ((i + offset) % 10)))) as Partial<T>;
      const event: LearningEvent = {
        event_id: 'id-1',
        event_type: 'assessment_complete',
        user_id: 'u\u2028',
        ...(mask & 1 ? { session_id: 's' } : {}),
        timestamp: '2025-03-01T08:00:00.000Z',
        context: pick(context, 0),
        data: pick(data, 5),
      };
      expect(canonicalEventJson(event)).toBe(canonicalJson(event));
    }
  });

  it('hashes equivalent bodies the same', () => {
    const a = prepareEvents(event({ event_id: 'e-1' }), principal(['student'])).events[0]!;
    const b = prepareEvents(event({ event_id: 'e-1', timestamp: '2025-03-01T08:00:00Z', context: null }), principal(['student']))
      .events[0]!;
    const c = prepareEvents(event({ event_id: 'e-1', data: { progress_percentage: 41 } }), principal(['student'])).events[0]!;
    expect(a.hash).toBe(b.hash);
    expect(a.hash).not.toBe(c.hash);
  });

  it('reports every invalid item with a body[i] location', () => {
    const p = problemOf(() =>
      prepareEvents(
        [event(), event({ user_id: 'has space' }), event({ data: { score: 'high' } }), event({ event_id: 'x'.repeat(256) })],
        principal(['admin']),
      ),
    );
    expect(p.status).toBe(422);
    expect(p.errors!.map((e) => e.location)).toEqual(['body[1].user_id', 'body[2].data.score', 'body[3].event_id']);
  });

  it('refuses 0 or more than 1000 items, and non-object bodies', () => {
    expect(problemOf(() => prepareEvents([], principal(['admin']))).status).toBe(422);
    expect(problemOf(() => prepareEvents(Array(1001).fill(event()), principal(['admin']))).errors![0]!.message).toContain('at most 1000');
    expect(problemOf(() => prepareEvents('event', principal(['admin']))).status).toBe(422);
  });

  it("lets students write only their own events, instructors and admins anyone's", () => {
    expect(problemOf(() => prepareEvents([event(), event({ user_id: 'someone-else' })], principal(['student']))).status).toBe(403);
    expect(prepareEvents(event({ user_id: 'someone-else' }), principal(['instructor'])).events).toHaveLength(1);
  });
});

describe('xAPI mapping', () => {
  it('accepts only 1.0.x versions', () => {
    expect(['1.0.0', '1.0.3', '1.0'].map(isSupportedXapiVersion)).toEqual([true, true, true]);
    expect(['0.95', '2.0.0', '1.0.x', '', undefined].map(isSupportedXapiVersion)).toEqual([false, false, false, false, false]);
  });

  it('parses ISO 8601 durations', () => {
    expect(durationSeconds('PT1M30S')).toBe(90);
    expect(durationSeconds('PT0.5S')).toBe(0.5);
    expect(durationSeconds('P1DT2H')).toBe(93_600);
    expect(durationSeconds('P1W')).toBe(604_800);
    expect(durationSeconds('P')).toBeUndefined();
    expect(durationSeconds('PT')).toBeUndefined();
    expect(durationSeconds('90 seconds')).toBeUndefined();
  });

  it('reads platform content ids from activity IRIs', () => {
    expect(contentIdFromIri('https://huntmaster.academy/api/content/ABCDEF01-2345-4678-89AB-CDEF01234567')).toBe(
      'abcdef01-2345-4678-89ab-cdef01234567',
    );
    expect(contentIdFromIri('https://lms.example/content/quiz-7/?attempt=2')).toBe('quiz-7');
    expect(contentIdFromIri('urn:example:activity:42')).toBe('urn:example:activity:42');
    expect(contentIdFromIri(`https://x/${'a'.repeat(300)}`)).toBeUndefined();
  });

  it('maps the ADL verbs to the five event types', () => {
    expect(new Set(Object.values(VERB_EVENT_TYPES))).toEqual(
      new Set(['content_view', 'progress_update', 'assessment_complete', 'login', 'logout']),
    );
    expect(VERB_EVENT_TYPES['http://adlnet.gov/expapi/verbs/progressed']).toBe('progress_update');
  });
});

describe('forwarder backoff', () => {
  it('doubles per failure, is capped, and jitters between half and all of the step', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 100, 10_000, () => 1))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(50, 100, 10_000, () => 1)).toBe(10_000);
    expect(backoffDelay(3, 100, 10_000, () => 0)).toBe(200);
    expect(backoffDelay(0, 100, 10_000, () => 1)).toBe(100);
  });
});
