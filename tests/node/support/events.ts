/** The event sender's report (event-sender.mjs) and the check that every acknowledged event is in PostgreSQL. */
import { execIn } from './node.ts';
import { startScriptPod } from './platform.ts';

/**
 * What the event sender saw. Acknowledged ids come as ranges of their sequence numbers: a list of
 * ids would pass the 16 KiB a container log line may hold.
 */
export interface SenderResult {
  id_prefix: string;
  acknowledged: { format: 'ranges'; ranges: Array<[number, number]> };
  sent: number;
  ok: number;
  failed: number;
  failuresByReason: Record<string, number>;
  maxGapMs: number;
  eventsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  durationMs: number;
}

export function acknowledgedIds(result: SenderResult): string[] {
  return result.acknowledged.ranges.flatMap(([first, last]) =>
    Array.from({ length: last - first + 1 }, (_, i) => `${result.id_prefix}${first + i}`),
  );
}

/** How many of `ids` are not in content.learning_events of the platform's managed PostgreSQL. */
export async function missingFromPostgres(namespace: string, platform: string, ids: string[]): Promise<number> {
  const found = await psql(
    namespace,
    platform,
    `SELECT count(*) FROM content.learning_events WHERE event_id = ANY(string_to_array('${ids.join(',')}', ','));`,
  );
  return ids.length - Number(found.trim());
}

/** Runs SQL as the superuser in the platform's managed PostgreSQL; returns psql's unaligned output. */
export function psql(namespace: string, platform: string, sql: string): Promise<string> {
  return execIn(
    namespace,
    `${platform}-postgres-0`,
    ['psql', '-h', '127.0.0.1', '-U', 'postgres', '-d', 'huntmaster', '-tA', '-v', 'ON_ERROR_STOP=1', '-f', '-'],
    { input: `${sql}\n` },
  );
}

/**
 * Runs the event sender (env: its settings, e.g. CONTENT_BRIDGE_URL, ACCESS_TOKEN, RATE) in a pod of
 * its own around `during`, with 3 s of events before and after; resolves with what it saw.
 */
export async function eventsFlowingAround(
  namespace: string,
  env: Record<string, string>,
  during: () => Promise<void>,
): Promise<SenderResult> {
  const sender = await startScriptPod(namespace, 'event-sender', 'event-sender.mjs', { ACK_FORMAT: 'ranges', ...env });
  await new Promise((r) => setTimeout(r, 3_000));
  let failure: unknown;
  try {
    await during();
    await new Promise((r) => setTimeout(r, 3_000));
  } catch (err) {
    failure = err;
  }
  const result = (await sender.stop()) as SenderResult;
  if (failure) throw failure;
  return result;
}
