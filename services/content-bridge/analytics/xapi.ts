/**
 * xAPI (Experience API 1.0.x) statements, mapped onto learning events and stored through the same
 * write path, so the idempotency rules are the same: the statement id is the event id, the body
 * hash is the hash of the canonical statement as sent. See README.md for the mapping tables.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Queryable } from '../../kit/deps/database.ts';
import type { FieldError } from '../../kit/http/problem.ts';
import { problem } from '../../kit/http/problem.ts';
import { fieldErrors } from '../../kit/http/field-errors.ts';
import type { Principal } from '../../kit/http/routes.ts';
import { bodyHash } from '../../kit/canonical.ts';
import {
  asItems,
  finishPrepare,
  itemLocation,
  normaliseId,
  timestampSchema,
  type EventType,
  type LearningEvent,
  type PreparedEvent,
} from './model.ts';

export const XAPI_VERSION_HEADER = 'X-Experience-API-Version';
/** What this endpoint implements, sent back on every response. */
export const XAPI_VERSION = '1.0.3';
export const isSupportedXapiVersion = (value: string | undefined) => Boolean(value && /^1\.0(\.\d+)?$/.test(value.trim()));

const ADL = 'http://adlnet.gov/expapi/verbs/';
/** Verb IRI → event type. Statements with any other verb are refused (422). */
export const VERB_EVENT_TYPES: Readonly<Record<string, EventType>> = {
  [`${ADL}experienced`]: 'content_view',
  [`${ADL}attended`]: 'content_view',
  'http://id.tincanapi.com/verb/viewed': 'content_view',
  [`${ADL}progressed`]: 'progress_update',
  [`${ADL}completed`]: 'assessment_complete',
  [`${ADL}passed`]: 'assessment_complete',
  [`${ADL}failed`]: 'assessment_complete',
  [`${ADL}scored`]: 'assessment_complete',
  [`${ADL}launched`]: 'login',
  [`${ADL}initialized`]: 'login',
  'https://w3id.org/xapi/adl/verbs/logged-in': 'login',
  [`${ADL}terminated`]: 'logout',
  [`${ADL}exited`]: 'logout',
  'https://w3id.org/xapi/adl/verbs/logged-out': 'logout',
};

/** cmi5's progress extension (0-100) becomes `data.progress_percentage`. */
export const PROGRESS_EXTENSION = 'https://w3id.org/xapi/cmi5/result/extensions/progress';
/** Where a statement may name the platform course when no context activity does. */
export const COURSE_EXTENSION = 'https://huntmaster.academy/xapi/extensions/course_id';

const iri = z
  .string()
  .min(1)
  .max(2048)
  .regex(/^[a-z][a-z0-9+.-]*:\S+$/i, 'must be an IRI');
const languageMap = z.record(z.string(), z.string());
const extensions = z.record(z.string(), z.unknown());

const agentSchema = z
  .looseObject({
    objectType: z.literal('Agent').optional(),
    name: z.string().max(255).optional(),
    mbox: z
      .string()
      .regex(/^mailto:[^@\s]+@[^@\s]+$/, 'must be mailto:<email>')
      .optional(),
    mbox_sha1sum: z.string().optional(),
    openid: z.string().optional(),
    account: z.looseObject({ homePage: iri, name: z.string().min(1).max(255) }).optional(),
  })
  .refine((a) => a.account || a.mbox, 'the actor must be identified by account (account.name = platform user id) or mbox');

const activityRef = z.looseObject({ id: iri });
const activityList = z.union([activityRef, z.array(activityRef)]);

export const statementSchema = z.looseObject({
  id: z.uuid().optional(),
  actor: agentSchema,
  verb: z.looseObject({ id: iri, display: languageMap.optional() }),
  object: z.looseObject({
    objectType: z.literal('Activity').optional(),
    id: iri,
    definition: z.looseObject({}).optional(),
  }),
  result: z
    .looseObject({
      score: z
        .looseObject({
          scaled: z.number().min(-1).max(1).optional(),
          raw: z.number().optional(),
          min: z.number().optional(),
          max: z.number().optional(),
        })
        .optional(),
      success: z.boolean().optional(),
      completion: z.boolean().optional(),
      response: z.string().optional(),
      duration: z.string().optional(),
      extensions: extensions.optional(),
    })
    .optional(),
  context: z
    .looseObject({
      registration: z.uuid().optional(),
      contextActivities: z
        .looseObject({
          parent: activityList.optional(),
          grouping: activityList.optional(),
          category: activityList.optional(),
          other: activityList.optional(),
        })
        .optional(),
      platform: z.string().optional(),
      language: z.string().optional(),
      extensions: extensions.optional(),
    })
    .optional(),
  timestamp: timestampSchema.optional(),
});
export type Statement = z.infer<typeof statementSchema>;

const DURATION =
  /^P(?!$)(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?=\d)(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** ISO 8601 duration → seconds (a year is 365 days, a month 30): xAPI's `result.duration`. */
export function durationSeconds(value: string): number | undefined {
  const m = DURATION.exec(value);
  if (!m) return undefined;
  const [y, mo, w, d, h, mi, s] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v))) as number[];
  return y! * 365 * 86400 + mo! * 30 * 86400 + w! * 7 * 86400 + d! * 86400 + h! * 3600 + mi! * 60 + s!;
}

/** `…/content/{id}` (e.g. the Content Bridge's own `/api/content/{id}` URL) names a platform content item. */
export function contentIdFromIri(objectId: string): string | undefined {
  const segment = lastSegmentAfter(objectId, 'content');
  if (segment) return segment;
  return PRINTABLE_ID.test(objectId) ? objectId : undefined;
}

const PRINTABLE_ID = /^[\x21-\x7e]{1,255}$/;

/** `https://host/api/content/abc/` → `abc` for `content`; undefined when the IRI has no such tail. */
function lastSegmentAfter(iriValue: string, collection: string): string | undefined {
  const path = iriValue.split(/[?#]/)[0] ?? '';
  const match = new RegExp(`/${collection}/([^/\\s]+)/?$`).exec(path);
  if (!match) return undefined;
  let segment: string;
  try {
    segment = decodeURIComponent(match[1]!);
  } catch {
    return undefined;
  }
  return PRINTABLE_ID.test(segment) ? normaliseId(segment) : undefined;
}

function courseIdOf(st: Statement): string | undefined {
  const ca = st.context?.contextActivities;
  const activities = [ca?.parent, ca?.grouping].flatMap((list) => (list === undefined ? [] : Array.isArray(list) ? list : [list]));
  for (const a of activities) {
    const id = lastSegmentAfter(a.id, 'courses');
    if (id) return id;
  }
  const ext = st.context?.extensions?.[COURSE_EXTENSION];
  return typeof ext === 'string' && PRINTABLE_ID.test(ext) ? normaliseId(ext) : undefined;
}

function emailOf(st: Statement): string | undefined {
  return st.actor.account ? undefined : st.actor.mbox?.slice('mailto:'.length).toLowerCase();
}

/**
 * Validates and maps a request body of statements. `mbox` actors are looked up by email among the
 * platform's users (one query for the whole batch).
 */
export async function prepareStatements(
  body: unknown,
  principal: Principal,
  db: Queryable,
): Promise<{ events: PreparedEvent[]; ids: string[] }> {
  const { items, batch } = asItems(body, 'statement');
  const errors: FieldError[] = [];
  const valid: Array<{ index: number; st: Statement }> = [];
  items.forEach((item, index) => {
    const result = statementSchema.safeParse(item);
    if (result.success) valid.push({ index, st: result.data });
    else errors.push(...fieldErrors(itemLocation(batch, index), result.error));
  });

  const emails = [...new Set(valid.map((v) => emailOf(v.st)).filter((e): e is string => e !== undefined))];
  const userByEmail = new Map<string, string>();
  if (emails.length) {
    const { rows } = await db.query<{ id: string; email: string }>(
      'SELECT id, lower(email) AS email FROM users.users WHERE lower(email) = ANY($1::text[])',
      [emails],
    );
    for (const r of rows) userByEmail.set(r.email, r.id);
  }

  const now = new Date().toISOString();
  const parsed: Array<{ index: number; event: LearningEvent; hash: string }> = [];
  for (const { index, st } of valid) {
    const at = itemLocation(batch, index);
    const eventType = VERB_EVENT_TYPES[st.verb.id];
    if (!eventType)
      errors.push({ location: `${at}.verb.id`, message: `unsupported verb; supported: ${Object.keys(VERB_EVENT_TYPES).join(', ')}` });
    let userId: string | undefined;
    if (st.actor.account) userId = normaliseId(st.actor.account.name);
    else {
      userId = userByEmail.get(emailOf(st)!);
      if (!userId) errors.push({ location: `${at}.actor.mbox`, message: 'no platform user has this email' });
    }
    const contentId = contentIdFromIri(st.object.id);
    if (!contentId)
      errors.push({ location: `${at}.object.id`, message: 'must be at most 255 printable characters or end in /content/{content_id}' });
    let seconds: number | undefined;
    if (st.result?.duration !== undefined) {
      seconds = durationSeconds(st.result.duration);
      if (seconds === undefined) errors.push({ location: `${at}.result.duration`, message: 'must be an ISO 8601 duration, e.g. PT1M30S' });
    }
    const progress = st.result?.extensions?.[PROGRESS_EXTENSION];
    if (progress !== undefined && (typeof progress !== 'number' || progress < 0 || progress > 100)) {
      errors.push({ location: `${at}.result.extensions`, message: `${PROGRESS_EXTENSION} must be a number from 0 to 100` });
    }
    if (!eventType || !userId || !contentId) continue;

    const score = st.result?.score?.scaled !== undefined ? st.result.score.scaled * 100 : st.result?.score?.raw;
    const courseId = courseIdOf(st);
    const event: LearningEvent = {
      event_id: st.id ? st.id.toLowerCase() : randomUUID(),
      event_type: eventType,
      user_id: userId,
      ...(st.context?.registration ? { session_id: st.context.registration.toLowerCase() } : {}),
      timestamp: st.timestamp ? new Date(st.timestamp).toISOString() : now,
      context: { ...(courseId ? { course_id: courseId } : {}), content_id: contentId },
      data: {
        ...(typeof progress === 'number' ? { progress_percentage: progress } : {}),
        ...(seconds !== undefined ? { time_spent_seconds: seconds } : {}),
        ...(score !== undefined ? { score } : {}),
        custom_fields: {
          xapi_verb: st.verb.id,
          xapi_object: st.object.id,
          ...(st.result?.success !== undefined ? { xapi_success: st.result.success } : {}),
          ...(st.result?.completion !== undefined ? { xapi_completion: st.result.completion } : {}),
        },
      },
    };
    // The statement as sent (id normalised) is the body: a replay without a timestamp stays a replay.
    parsed.push({ index, event, hash: bodyHash({ xapi: { ...st, ...(st.id ? { id: st.id.toLowerCase() } : { id: event.event_id }) } }) });
  }
  if (errors.length) throw problem.unprocessable(`${errors.length} problem(s) in the statements; nothing was stored`, errors);
  return finishPrepare(parsed, batch, principal, 'xapi');
}
