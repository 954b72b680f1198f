/**
 * Password hashing with argon2id (Node 24's crypto.argon2) at OWASP's minimum: 19 MiB, t=2, p=1.
 * Hashes are PHC strings, so parameters can be raised later and old hashes still verify.
 */
import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const argon2Async = promisify(argon2);

export const ARGON2_PARAMS = { memory: 19 * 1024, passes: 2, parallelism: 1, tagLength: 32 } as const;

async function derive(password: string, salt: Buffer, params: { memory: number; passes: number; parallelism: number; tagLength: number }) {
  return argon2Async('argon2id', { message: Buffer.from(password, 'utf8'), nonce: salt, ...params });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, ARGON2_PARAMS);
  const { memory, passes, parallelism } = ARGON2_PARAMS;
  return `$argon2id$v=19$m=${memory},t=${passes},p=${parallelism}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const match = PHC.exec(phc);
  if (!match) return false;
  const [, m, t, p, salt, hash] = match;
  const expected = Buffer.from(hash!, 'base64url');
  const actual = await derive(password, Buffer.from(salt!, 'base64url'), {
    memory: Number(m),
    passes: Number(t),
    parallelism: Number(p),
    tagLength: expected.length,
  });
  return timingSafeEqual(actual, expected);
}

/**
 * A hash to verify against when the user does not exist, so a login for an unknown account costs
 * the same time as one with a wrong password.
 */
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  return (dummy ??= hashPassword(randomBytes(24).toString('base64url')));
}

export interface PasswordPolicyInput {
  password: string;
  username?: string;
  email?: string;
}

/** Returns the reasons the password is unacceptable (empty when it is fine). */
export function passwordProblems({ password, username, email }: PasswordPolicyInput): string[] {
  const problems: string[] = [];
  if ([...password].length < 12) problems.push('must be at least 12 characters');
  if (password.length > 1024) problems.push('must be at most 1024 characters');
  const lower = password.toLowerCase();
  if (username && lower === username.toLowerCase()) problems.push('must not equal the username');
  if (email && lower === email.toLowerCase()) problems.push('must not equal the email');
  return problems;
}
