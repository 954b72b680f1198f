/** Figures the node-tier tests measure (install and recovery times), printed and kept for BENCHMARKS.md. */
import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FIGURES_FILE = process.env.HMA_FIGURES_FILE ?? join(tmpdir(), 'hma-figures.jsonl');

export function recordFigure(name: string, ms: number, extra: Record<string, unknown> = {}): void {
  console.log(`[figure] ${name}: ${(ms / 1000).toFixed(1)} s`);
  appendFileSync(FIGURES_FILE, JSON.stringify({ name, ms, at: new Date().toISOString(), ...extra }) + '\n');
}
