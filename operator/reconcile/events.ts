/**
 * Kubernetes Events on the HuntMasterPlatform, for state transitions and errors. Repeats of the
 * same event within the hour are folded into one (count++) instead of flooding the namespace, and
 * each new Event is also logged, so `kubectl logs` of the operator tells what `describe` does.
 */
import type { Logger } from 'pino';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { RESOURCES } from '../kube/resources.ts';

export type EventType = 'Normal' | 'Warning';

export function eventRecorder(client: KubeClient, logger: Logger, component = 'huntmaster-operator') {
  const recent = new Map<string, { name: string; namespace: string; count: number; at: number }>();
  return async function record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = obj.metadata.namespace ?? 'default';
    const key = `${obj.metadata.uid}|${type}|${reason}|${message}`;
    const now = new Date().toISOString();
    const seen = recent.get(key);
    try {
      if (seen && Date.now() - seen.at < 3600_000) {
        seen.count++;
        seen.at = Date.now();
        await client.mergePatch(RESOURCES.Event, seen.namespace, seen.name, { count: seen.count, lastTimestamp: now });
        return;
      }
      const created = await client.create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: '', generateName: `${obj.metadata.name}.`, namespace },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata.name,
          namespace,
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
        },
        reason,
        message: message.slice(0, 1024),
        type,
        source: { component },
        reportingComponent: component,
        reportingInstance: process.env.HOSTNAME ?? 'local',
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
      recent.set(key, { name: created.metadata.name, namespace, count: 1, at: Date.now() });
      // The log carries what the Events carry, once per new Event (repeats above are only counted).
      logger[type === 'Warning' ? 'warn' : 'info']({ object: `${obj.kind}/${namespace}/${obj.metadata.name}`, event: reason }, message);
      if (recent.size > 5000) recent.delete(recent.keys().next().value!);
    } catch (err) {
      logger.warn({ err: (err as Error).message, reason }, 'could not record an event');
    }
  };
}

export type EventRecorder = ReturnType<typeof eventRecorder>;
