/** Figures the node-tier tests measure (install and recovery times), printed and kept for BENCHMARKS.md. */
import { appendFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

export const FIGURES_FILE = process.env.HMA_FIGURES_FILE ?? join(tmpdir(), 'hma-figures.jsonl');

/** Each figure carries the machine's 1-minute load average when it was taken: the machine is shared. */
export function recordFigure(name: string, ms: number, extra: Record<string, unknown> = {}): void {
  const load = Number(loadavg()[0]!.toFixed(1));
  console.log(`[figure] ${name}: ${(ms / 1000).toFixed(1)} s (load ${load})`);
  appendFileSync(FIGURES_FILE, JSON.stringify({ name, ms, at: new Date().toISOString(), load, ...extra }) + '\n');
}

/** A rate (events/s) rather than a duration: `perSecond` is the median of `runs`. */
export function recordRate(name: string, perSecond: number, runs: number[], extra: Record<string, unknown> = {}): void {
  const load = Number(loadavg()[0]!.toFixed(1));
  console.log(`[figure] ${name}: ${perSecond.toFixed(0)}/s, median of ${runs.map((r) => r.toFixed(0)).join(', ')} (load ${load})`);
  appendFileSync(FIGURES_FILE, JSON.stringify({ name, perSecond, runs, at: new Date().toISOString(), load, ...extra }) + '\n');
}
