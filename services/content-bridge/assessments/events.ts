/**
 * What a FINAL assessment result sets off: an `assessment_complete`
 * learning event and a course-progress update. Both run inside the transaction that finalises the
 * attempt, so a result is never final without its event and progress (and vice versa).
 *
 * Learning events go through a `LearningEventSink`. The default, `outboxLearningEventSink`, writes the
 * event to `content.assessment_events_outbox` (owned here, unique per event type and attempt) and, in a
 * SAVEPOINT, through the learning-events writer's own statement (`INSERT_EVENTS_SQL`), so the event
 * lands in `content.learning_events` and is folded into the analytics summaries exactly like events
 * posted to /api/analytics/events. Its shape is the API's (`toApiEvent`: event_id = attempt id,
 * data.score = percentage, the rest under data.custom_fields, body_hash = SHA-256 of its canonical
 * JSON). If that insert fails, the savepoint is rolled back, a warning is logged and the outbox row
 * stays unforwarded; the submission itself never fails because of it.
 *
 * Course progress (`recordCourseProgress`): when the assessment's `metadata.course_id` is set,
 * every published content item of that course with `content_type = 'assessment'` and
 * `metadata->>'assessment_id'` equal to the assessment's id gets the user's `content.user_progress`
 * row upserted: 100 % and `completed_at` (set once, never cleared) when passed; when failed, the row
 * is created at 0 % / touched (`last_accessed`), progress never decreases. The row's metadata gets
 * `last_assessment: {attempt_id, score_percent, passed}`. The item's own content prerequisites are not
 * re-checked here: the assessment's prerequisites were enforced when the attempt started.
 */
import { bodyHash } from '../../kit/canonical.ts';
import { INSERT_EVENTS_SQL, INSERT_EVENTS_STATEMENT } from '../analytics/insert-statement.ts';
import type { Queryable } from '../../kit/deps/database.ts';
import type { Logger } from '../../kit/observability/logger.ts';

export interface LearningEvent {
  event_type: 'assessment_complete';
  /** Unique per event: the attempt's id (one final result per attempt). */
  event_id: string;
  user_id: string;
  course_id: string | null;
  content_id: string | null;
  occurred_at: string;
  data: {
    assessment_id: string;
    attempt_id: string;
    score: number;
    points: number;
    max_points: number;
    passed: boolean;
    passing_score: number;
    attempt_number: number;
  };
}

export interface LearningEventSink {
  /** Records `event` in the caller's transaction `tx`. */
  record(tx: Queryable, event: LearningEvent): Promise<void>;
}

export function outboxLearningEventSink(logger?: Logger): LearningEventSink {
  return {
    async record(tx, event) {
      const inserted = await tx.query<{ id: string }>(
        `INSERT INTO content.assessment_events_outbox (event_type, attempt_id, assessment_id, user_id, course_id, content_id, payload)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (event_type, attempt_id) DO NOTHING
         RETURNING id`,
        [
          event.event_type,
          event.data.attempt_id,
          event.data.assessment_id,
          event.user_id,
          event.course_id,
          event.content_id,
          JSON.stringify(event),
        ],
      );
      const outboxId = inserted.rows[0]?.id;
      if (!outboxId) return; // already recorded
      await forwardToLearningEvents(tx, event, outboxId, logger);
    },
  };
}

/**
 * The event in the normalised shape the learning-events API takes (event_id, event_type, user_id,
 * timestamp, context, data{score, custom_fields}); `score` is the percentage.
 */
export function toApiEvent(event: LearningEvent) {
  const { score, ...rest } = event.data;
  return {
    event_id: event.event_id,
    event_type: event.event_type,
    user_id: event.user_id,
    timestamp: event.occurred_at,
    context: {
      ...(event.course_id ? { course_id: event.course_id } : {}),
      ...(event.content_id ? { content_id: event.content_id } : {}),
    },
    data: { score, custom_fields: rest },
  };
}

async function forwardToLearningEvents(tx: Queryable, event: LearningEvent, outboxId: string, logger?: Logger): Promise<void> {
  const apiEvent = toApiEvent(event);
  const values = {
    event_id: event.event_id,
    event_type: event.event_type,
    user_id: event.user_id,
    course_id: event.course_id,
    content_id: event.content_id,
    event_data: apiEvent.data,
    context_data: {},
    occurred_at: event.occurred_at,
    body_hash: bodyHash(apiEvent),
    source: 'api',
  };
  await tx.query('SAVEPOINT assessment_event_forward');
  try {
    // The learning-events writer's own statement: it inserts the event and folds it into the
    // analytics summaries in one go, exactly as events posted to /api/analytics/events are.
    await tx.query(INSERT_EVENTS_SQL, [JSON.stringify([{ ...values, session_id: null, submitted_by: null }])], {
      prepare: INSERT_EVENTS_STATEMENT,
    });
    await tx.query('UPDATE content.assessment_events_outbox SET forwarded_at = now() WHERE id = $1', [outboxId]);
    await tx.query('RELEASE SAVEPOINT assessment_event_forward');
  } catch (err) {
    await tx.query('ROLLBACK TO SAVEPOINT assessment_event_forward');
    logger?.warn(
      { err, event_id: event.event_id },
      'could not copy an assessment event into content.learning_events; it stays in the outbox',
    );
  }
}

/** Upserts progress of the content items linked to the assessment (see the module comment). Returns their ids. */
export async function recordCourseProgress(
  tx: Queryable,
  input: { userId: string; assessmentId: string; courseId: string | null; attemptId: string; scorePercent: number; passed: boolean },
): Promise<string[]> {
  if (!input.courseId) return [];
  const { rows } = await tx.query<{ content_id: string }>(
    `INSERT INTO content.user_progress AS up (user_id, content_id, course_id, progress_percentage, last_accessed, completed_at, metadata)
     SELECT $1, ci.id, ci.course_id, CASE WHEN $4 THEN 100 ELSE 0 END, now(), CASE WHEN $4 THEN now() END,
            jsonb_build_object('last_assessment', jsonb_build_object('attempt_id', $5::text, 'score_percent', $6::numeric, 'passed', $4::boolean))
       FROM content.content_items ci
      WHERE ci.course_id = $3 AND ci.content_type = 'assessment' AND ci.status = 'published' AND ci.metadata ->> 'assessment_id' = $2::text
      ORDER BY ci.id
     ON CONFLICT (user_id, content_id) DO UPDATE SET
       course_id = EXCLUDED.course_id,
       progress_percentage = GREATEST(up.progress_percentage, EXCLUDED.progress_percentage),
       completed_at = coalesce(up.completed_at, EXCLUDED.completed_at),
       metadata = up.metadata || EXCLUDED.metadata,
       last_accessed = now(),
       updated_at = now()
     RETURNING content_id`,
    [input.userId, input.assessmentId, input.courseId, input.passed, input.attemptId, input.scorePercent],
  );
  return rows.map((r) => r.content_id);
}
