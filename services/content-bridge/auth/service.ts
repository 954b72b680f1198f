/**
 * Accounts and sessions: registration (password policy, argon2id), login (one argon2 verification
 * whether or not the account exists), refresh-token rotation, logout (the access token revoked on
 * every replica, the refresh family too when given), token validation for the other modules, and
 * password reset: a request mails a single-use link (whether or not the address is registered, the
 * caller learns nothing); confirming it sets the new password and ends the user's sessions, in one
 * transaction, so a password that fails the policy leaves the link unused.
 */
import { randomBytes } from 'node:crypto';
import { dummyHash, hashPassword, passwordProblems, verifyPassword } from '../../kit/auth/passwords.ts';
import { signAccessToken, TokenError } from '../../kit/auth/tokens.ts';
import { sha256Hex } from '../../kit/canonical.ts';
import { problem, ProblemError } from '../../kit/http/problem.ts';
import type { Principal } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { toUser, type UserRow } from '../users/model.ts';
import { DuplicateUserError } from '../users/repository.ts';
import type { LoginBody, RegisterBody } from './model.ts';
import { RefreshTokenError } from './refresh-tokens.ts';
import { passwordResetRepository as resets } from './repository.ts';

const INVALID_CREDENTIALS = 'Invalid username, email or password';

/**
 * The answer to a token that does not validate (/auth/token, /auth/sso): the other modules read
 * `valid` and `error`, and as every error it is problem+json, so both sit in one body.
 */
export function invalidTokenProblem(error: string): ProblemError {
  return new ProblemError({
    status: 401,
    detail: error,
    headers: { 'Cache-Control': 'no-store' },
    extensions: { valid: false, error },
  });
}

/** A new access token for `user`, beside the refresh token that goes with it. */
function tokenPair(app: AppContext, user: UserRow, refreshToken: string) {
  const access = signAccessToken(app.tokens, { userId: user.id, username: user.username, roles: user.roles });
  return {
    access_token: access.token,
    token_type: 'Bearer' as const,
    expires_in: app.tokens.accessTtlSeconds,
    refresh_token: refreshToken,
    user: toUser(user),
  };
}

/** A login's token pair: a new refresh token family. */
export async function issueTokenPair(app: AppContext, user: UserRow) {
  return tokenPair(app, user, await app.refreshTokens.issue(user.id));
}

/** 422 naming `location` when the password fails the policy. */
function requirePasswordPolicy(input: { password: string; username: string; email: string }, location: string): void {
  const problems = passwordProblems(input);
  if (problems.length) {
    throw problem.unprocessable(
      'The password does not meet the policy',
      problems.map((message) => ({ location, message })),
    );
  }
}

/** A new student account; 422 when the password fails the policy, 409 when the name or email is taken. */
export async function register(app: AppContext, body: RegisterBody) {
  requirePasswordPolicy({ password: body.password, username: body.username, email: body.email }, 'body.password');
  try {
    const user = await app.users.create({
      username: body.username,
      email: body.email,
      passwordHash: await hashPassword(body.password),
      profile: body.profile ?? {},
      roles: ['student'],
    });
    return { user: toUser(user) };
  } catch (err) {
    if (err instanceof DuplicateUserError) throw problem.conflict('That username or email is already registered');
    throw err;
  }
}

export async function login(app: AppContext, body: LoginBody) {
  const user = await app.users.findByLogin(body);
  // Always run one argon2 verification, so timing does not reveal whether the account exists.
  const ok = await verifyPassword(body.password, user?.password_hash ?? (await dummyHash()));
  if (!user || !user.password_hash || !ok) throw problem.unauthorized(INVALID_CREDENTIALS);
  await app.users.touchLogin(user.id);
  const fresh = (await app.users.findById(user.id)) ?? user;
  return issueTokenPair(app, fresh);
}

/** A new access token and the rotated refresh token; a reused refresh token revokes its family (401). */
export async function refresh(app: AppContext, refreshToken: string) {
  let rotated;
  try {
    rotated = await app.refreshTokens.rotate(refreshToken);
  } catch (err) {
    if (err instanceof RefreshTokenError) throw problem.unauthorized(err.message);
    throw err;
  }
  const user = await app.users.findById(rotated.userId);
  if (!user) throw problem.unauthorized('unknown user');
  return tokenPair(app, user, rotated.token);
}

export async function logout(app: AppContext, principal: Principal, refreshToken: string | undefined) {
  await app.revocation.revoke(principal.tokenId, principal.expiresAt);
  if (refreshToken) await app.refreshTokens.revokeFamilyOf(refreshToken);
}

/** The user and roles behind a valid, unrevoked access token; invalidTokenProblem otherwise. */
export async function validateToken(app: AppContext, token: string | undefined) {
  if (!token) throw invalidTokenProblem('no token given');
  try {
    const claims = app.verifyToken(token);
    if (await app.revocation.isRevoked(claims.jti)) throw invalidTokenProblem('token revoked');
    const user = await app.users.findByIdFresh(claims.sub);
    if (!user) throw invalidTokenProblem('unknown user');
    return { valid: true as const, user: toUser(user), roles: claims.roles, exp: claims.exp };
  } catch (err) {
    if (err instanceof TokenError) throw invalidTokenProblem(err.message);
    throw err;
  }
}

export async function requestPasswordReset(app: AppContext, email: string): Promise<void> {
  const user = await app.users.findByLogin({ email });
  if (!user) return;
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + app.config.PASSWORD_RESET_TTL_SECONDS * 1000);
  await resets.create(app.deps.db, { userId: user.id, tokenHash: sha256Hex(token), expiresAt });
  const link = `${app.config.PUBLIC_BASE_URL}/reset-password?token=${token}`;
  await app.mailer.sendPasswordReset({ email: user.email, username: user.username }, link, expiresAt);
}

export async function confirmPasswordReset(app: AppContext, token: string, newPassword: string): Promise<void> {
  const userId = await app.deps.db.transaction(async (tx) => {
    const reset = await resets.claim(tx, sha256Hex(token));
    if (!reset) return undefined;
    requirePasswordPolicy({ password: newPassword, username: reset.username, email: reset.email }, 'body.new_password');
    await resets.setPassword(tx, reset.userId, await hashPassword(newPassword));
    return reset.userId;
  });
  if (!userId) throw problem.badRequest('The reset token is invalid, used or expired');
  app.users.forget(userId);
}
