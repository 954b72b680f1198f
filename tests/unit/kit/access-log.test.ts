/** The hand-built access line has pino's shape exactly, and honours the logger's level. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { accessLogWriter } from '../../../services/kit/observability/access-log.ts';
import { createLogger } from '../../../services/kit/observability/logger.ts';

function capture(level: string) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ service: 'svc', level, destination: destination as never }), lines };
}

describe('the access log', () => {
  it('writes the line pino would write, with the time and the logger bindings', async () => {
    const { logger, lines } = capture('info');
    const entry = { requestId: 'req-1', method: 'GET', path: '/api/x/"quoted"\\é', status: 404, ms: 3 };
    accessLogWriter(logger)!(entry);
    logger.info({ request_id: entry.requestId, method: entry.method, path: entry.path, status: entry.status, ms: entry.ms }, 'request');
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(2);
    const [ours, pinos] = lines.map((l) => l.replace(/"time":"[^"]+"/, '"time":"T"'));
    expect(ours).toBe(pinos);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'info',
      service: 'svc',
      path: entry.path,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('is off when the level leaves info lines out', () => {
    expect(accessLogWriter(capture('warn').logger)).toBeUndefined();
  });
});
