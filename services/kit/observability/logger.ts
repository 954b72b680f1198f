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
   * Without a destination, stdout is written in chunks of about this many bytes, one write each:
   * a write per line costs a busy service a tenth of its CPU. Buffered lines are written within a
   * second, errors at once with the lines before them, all of them on exit; a process killed outright (SIGKILL,
   * OOM) loses at most the last second of non-error lines. 0: every line synchronously. Unset:
   * pino's default (every line at once, asynchronously).
   */
  bufferBytes?: number;
}

const ERROR_LEVEL = 50;

/**
 * Stdout in chunks of about `bytes`: lines are gathered here and written a chunk at a time, when a
 * chunk is full, every second, at once on an error line and on exit. Each chunk is one synchronous
 * write, so what is handed over is written in order before the next statement runs: an error line
 * and the lines before it survive a SIGKILL that follows. (Asynchronous writes lost exactly those
 * on a busy machine: the write was still queued in libuv's thread pool when the process died, and
 * a later synchronous flush could overtake it.) One write per chunk keeps it cheap: tens of lines
 * per system call. sonic-boom's own buffering is not used (minLength 0): it measures the UTF-8
 * length of its whole pending string on every line, which made logging a tenth of a small
 * request's cost; here each line costs a concatenation.
 */
function bufferedStdout(bytes: number) {
  const stdout = pino.destination({ dest: 1, minLength: 0, sync: true });
  let pending = '';
  const writeNow = () => {
    if (!pending) return;
    stdout.write(pending);
    pending = '';
  };
  setInterval(writeNow, 1000).unref();
  process.on('exit', writeNow);
  return {
    write(line: string) {
      pending += line;
      if (pending.length >= bytes) writeNow();
    },
    flush(cb?: (err?: Error) => void) {
      writeNow();
      cb?.();
    },
    flushSync: writeNow,
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
