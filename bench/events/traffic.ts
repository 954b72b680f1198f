/**
 * Synthetic learning events for the ingestion benchmark. A batch is a day of activity of 50 learners
 * on 20 content items of 5 courses (request n covers day n % 28); a single event is the sending
 * client's own. Plain concatenation, so building a 1000-event body costs little of the load
 * generator's CPU.
 */
const COURSES = 5;
const CONTENTS = 20;
const USERS = 50;

/**
 * One event as JSON after its id: the `i`-th event of request `n` (for a single event, request `i`
 * of client `n`); for generators that write the id themselves (wrk's Lua).
 */
export function eventTail(i: number, n: number, userId: string): string {
  const type = ['content_view', 'progress_update', 'assessment_complete', 'content_view'][i % 4]!;
  const content = (i * 7 + n) % CONTENTS;
  const data =
    type === 'progress_update'
      ? `{"progress_percentage":${(i * 7) % 101},"time_spent_seconds":${i % 300}}`
      : type === 'assessment_complete'
        ? `{"score":${(i * 13) % 100},"time_spent_seconds":${i % 300}}`
        : `{"time_spent_seconds":${i % 300}}`;
  return (
    `","event_type":"${type}","user_id":"${userId}","session_id":"bench-session-${i % 97}",` +
    `"timestamp":"2025-06-${String(1 + (n % 28)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z",` +
    `"context":{"course_id":"bench-course-${content % COURSES}","content_id":"bench-content-${content}","device_type":"desktop","browser":"bench"},` +
    `"data":${data}}`
  );
}

/** Request `n` of a run: `size` events with ids unique to the run (`prefix`), so each is a new insert. */
export function eventBatch(prefix: string, n: number, size: number): string {
  const parts = new Array<string>(size);
  for (let i = 0; i < size; i++) parts[i] = `{"event_id":"${prefix}-${n}-${i}${eventTail(i, n, `bench-user-${i % USERS}`)}`;
  return `[${parts.join(',')}]`;
}

/** Request `n` of a run: one event of `userId`. */
export function singleEvent(prefix: string, n: number, client: number, userId: string): string {
  return `{"event_id":"${prefix}-${n}${eventTail(n, client, userId)}`;
}
