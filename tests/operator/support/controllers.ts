/** Stand-ins for the controllers the apiserver tier does not run, free of vitest so benchmarks can use them too. */
import type { KubeClient } from '../../../operator/kube/client.ts';
import { RESOURCES } from '../../../operator/kube/resources.ts';

/** Marks a Job succeeded, as the Job controller would once its pod completed. */
export async function completeJob(client: KubeClient, namespace: string, name: string): Promise<void> {
  const now = new Date().toISOString();
  await client.mergePatch(
    RESOURCES.Job,
    namespace,
    name,
    {
      status: {
        startTime: now,
        completionTime: now,
        succeeded: 1,
        conditions: [
          { type: 'SuccessCriteriaMet', status: 'True', lastTransitionTime: now },
          { type: 'Complete', status: 'True', lastTransitionTime: now },
        ],
      },
    },
    'status',
  );
}
