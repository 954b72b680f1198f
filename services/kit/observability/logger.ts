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

/**
 * Stdout in chunks of about `bytes`: lines are gathered here and handed to sonic-boom a chunk at a
 * time. sonic-boom's own buffering measures the UTF-8 length of its whole pending string on every
 * line, which made logging a tenth of a small request's cost; here each line costs a concatenation.
 * Handed over when a chunk is full, every second, synchronously on an error line and on exit.
 */
function bufferedStdout(bytes: number) {
  // The chunks are gathered here, so sonic-boom writes each as it comes (minLength 0): buffering in it
  // too measured twice the cost per line (it takes the UTF-8 length of its pending text again and again).
  const stdout = pino.destination({ dest: 1, minLength: 0, sync: false });
  let pending = '';
  const handOver = () => {
    if (!pending) return;
    stdout.write(pending);
    pending = '';
  };
  const flushSync = () => {
    handOver();
    try {
      stdout.flushSync();
    } catch {
      stdout.flush(); // a write is already in flight: it is followed at once
    }
  };
  setInterval(() => {
    handOver();
    stdout.flush();
  }, 1000).unref();
  process.on('exit', flushSync); // pino flushes sonic-boom on exit, maybe before this: so flush again
  return {
    write(line: string) {
      pending += line;
      if (pending.length >= bytes) handOver();
    },
    flush(cb?: (err?: Error) => void) {
      handOver();
      stdout.flush(cb);
    },
    flushSync,
  };
}

export function createLogger(opts: LoggerOptions): Logger {
  let destination = opts.destination;
  let flushNow: (() => void) | undefined;
  if (!destination && opts.bufferBytes === 0) destination = pino.destination({ dest: 1, sync: true });
  if (!destination && opts.bufferBytes) {
    const buffered = bufferedStdout(opts.bufferBytes);
    destination = buffered;
    flushNow = buffered.flushSync;
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
