/** Structured JSON logs. Anything that looks like a credential is redacted before it is written. */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

const REDACT_PATHS = [
  'password',
  'new_password',
  'token',
  'access_token',
  'refresh_token',
  'secret',
  '*.password',
  '*.new_password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.secret',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-service-token"]',
  'headers.authorization',
  'config.JWT_SECRET',
  'config.S3_SECRET_KEY',
  'config.DATABASE_URL',
  'config.REDIS_URL',
];

export interface LoggerOptions {
  service: string;
  level: string;
  destination?: DestinationStream;
  /**
   * Without a destination, stdout is written in chunks of about this many bytes, off the event loop:
   * a write per line costs a busy service a tenth of its CPU. Buffered lines are written within a
   * second, errors at once (synchronously), all of them on exit; a process killed outright (SIGKILL,
   * OOM) loses at most the last second of non-error lines. 0: every line synchronously. Unset:
   * pino's default (every line at once, asynchronously).
   */
  bufferBytes?: number;
}

const ERROR_LEVEL = 50;

export function createLogger(opts: LoggerOptions): Logger {
  let destination = opts.destination;
  let flushNow: (() => void) | undefined;
  if (!destination && opts.bufferBytes === 0) destination = pino.destination({ dest: 1, sync: true });
  if (!destination && opts.bufferBytes) {
    const stdout = pino.destination({ dest: 1, minLength: opts.bufferBytes, sync: false }); // flushed on exit by pino
    destination = stdout;
    setInterval(() => stdout.flush(), 1000).unref();
    // An error may come just before a crash: write it, and what was held before it, synchronously.
    flushNow = () => {
      try {
        stdout.flushSync();
      } catch {
        stdout.flush();
      }
    };
  }
  return pino(
    {
      level: opts.level,
      base: { service: opts.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      ...(flushNow && {
        hooks: {
          logMethod(args, method, level) {
            method.apply(this, args);
            if (level >= ERROR_LEVEL) flushNow();
          },
        },
      }),
    },
    destination,
  );
}
