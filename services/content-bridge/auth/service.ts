/**
 * Password reset: a request mails a single-use link (whether or not the address is registered, the
 * caller learns nothing); confirming it sets the new password and ends the user's sessions, in one
 * transaction, so a password that fails the policy leaves the link unused.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hashPassword, passwordProblems } from '../../kit/auth/passwords.ts';
import { problem } from '../../kit/http/problem.ts';
import type { AppContext } from '../context.ts';
import { passwordResetRepository as resets } from './repository.ts';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

export async function requestPasswordReset(app: AppContext, email: string): Promise<void> {
  const user = await app.users.findByLogin({ email });
  if (!user) return;
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + app.config.PASSWORD_RESET_TTL_SECONDS * 1000);
  await resets.create(app.deps.db, { userId: user.id, tokenHash: sha256(token), expiresAt });
  const link = `${app.config.PUBLIC_BASE_URL}/reset-password?token=${token}`;
  await app.mailer.sendPasswordReset({ email: user.email, username: user.username }, link, expiresAt);
}

export async function confirmPasswordReset(app: AppContext, token: string, newPassword: string): Promise<void> {
  const userId = await app.deps.db.transaction(async (tx) => {
    const reset = await resets.claim(tx, sha256(token));
    if (!reset) return undefined;
    const problems = passwordProblems({ password: newPassword, username: reset.username, email: reset.email });
    if (problems.length) {
      throw problem.unprocessable(
        'The password does not meet the policy',
        problems.map((message) => ({ location: 'body.new_password', message })),
      );
    }
    await resets.setPassword(tx, reset.userId, await hashPassword(newPassword));
    return reset.userId;
  });
  if (!userId) throw problem.badRequest('The reset token is invalid, used or expired');
  app.users.forget(userId);
}
