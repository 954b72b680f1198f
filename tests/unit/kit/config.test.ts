import { describe, expect, it } from 'vitest';
import { commonEnv, ConfigError, parseEnv } from '../../../services/kit/config.ts';
import { contentBridgeEnv } from '../../../services/content-bridge/config.ts';

describe('parseEnv', () => {
  it('applies defaults and coerces numbers', () => {
    const config = parseEnv(contentBridgeEnv, { JWT_SECRET: 'x'.repeat(32) });
    expect(config.PORT).toBe(8090);
    expect(config.S3_BUCKET).toBe('huntmaster-storage');
    expect(config.UPLOAD_MAX_BYTES).toBe(2 * 1024 ** 3);
    expect(config.ENABLE_ERROR_SIMULATION).toBe(false);
    expect(parseEnv(contentBridgeEnv, { PORT: '9000', ENABLE_ERROR_SIMULATION: 'true' }).PORT).toBe(9000);
  });

  it.each([
    [{ PORT: 'eighty' }, /^invalid configuration: PORT /],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must be a URL starting with postgres:\/\/ or postgresql:\/\//],
    [{ REDIS_URL: 'not a url' }, /REDIS_URL must be a URL/],
    [{ JWT_SECRET: 'too-short' }, /JWT_SECRET must be at least 32 bytes/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL /],
    [{ S3_BUCKET: 'Bad_Bucket' }, /S3_BUCKET must be a valid S3 bucket name/],
  ])('names the bad variable in one line: %o', (env, message) => {
    let error: unknown;
    try {
      parseEnv(contentBridgeEnv, env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('treats empty strings as unset', () => {
    expect(parseEnv({ PORT: commonEnv.PORT.default(1) }, { PORT: '' }).PORT).toBe(1);
  });

  it('says "is required" for a missing required variable', () => {
    expect(() => parseEnv({ PORT: commonEnv.PORT }, {})).toThrow(/PORT is required/);
  });
});
