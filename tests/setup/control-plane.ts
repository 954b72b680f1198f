/**
 * Global setup of the operator (apiserver tier) and e2e (cluster tier) projects. The tier comes from
 * the project's `HMA_TIER` env, so both projects share this file.
 */
import type { TestProject } from 'vitest/node';
import { reapOrphans } from '../harness/process.ts';
import { startControlPlane, type Tier } from '../harness/index.ts';

export default async function setup(project: TestProject) {
  reapOrphans();
  const tier = (project.config.env?.HMA_TIER ?? 'apiserver') as Tier;
  const plane = await startControlPlane({ tier });
  project.provide('kubeconfig', plane.kubeconfig);
  return () => plane.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
  }
}
