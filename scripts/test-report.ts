/** Reads the JSON reports of `npm test`'s two vitest runs, for the list of failures it prints last. */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface JsonReport {
  testResults: {
    name: string;
    status: string;
    message?: string;
    assertionResults: { fullName: string; status: string; failureMessages: string[] }[];
  }[];
}

/**
 * One line per failed test (or file that failed outside its tests), printed last: CI shows the end
 * of the output, and the two sides' reports are long.
 */
export function failureSummary(jsonFiles: string[]): string[] {
  const firstLine = (text = '') => text.split('\n').find((l) => l.trim()) ?? '';
  const lines: string[] = [];
  for (const file of jsonFiles) {
    let report: JsonReport;
    try {
      report = JSON.parse(readFileSync(file, 'utf8')) as JsonReport;
    } catch {
      continue; // that side never got to write it: its own output says why
    }
    for (const result of report.testResults) {
      const name = relative(process.cwd(), result.name);
      const failed = result.assertionResults.filter((a) => a.status === 'failed');
      for (const a of failed) {
        const message = a.failureMessages[0] ?? '';
        const at = new RegExp(`${escapeRegExp(result.name)}:(\\d+)`).exec(message)?.[1];
        lines.push(`${name}${at ? `:${at}` : ''} > ${a.fullName}: ${firstLine(message)}`);
      }
      if (result.status === 'failed' && !failed.length) lines.push(`${name}: ${firstLine(result.message)}`);
    }
  }
  return lines;
}
