/** SQL for password resets. Tokens are stored only as SHA-256 hashes. */
import type { Queryable } from '../../kit/deps/database.ts';

export interface ClaimedReset {
  userId: string;
  username: string;
  email: string;
}

export const passwordResetRepository = {
  async create(db: Queryable, reset: { userId: string; tokenHash: string; expiresAt: Date }): Promise<void> {
    await db.query('INSERT INTO users.password_resets (user_id, token_hash, expires_at) VALUES ($1, $2, $3)', [
      reset.userId,
      reset.tokenHash,
      reset.expiresAt,
    ]);
  },

  /** Marks an unused, unexpired reset used and returns its user; undefined when there is none. */
  async claim(tx: Queryable, tokenHash: string): Promise<ClaimedReset | undefined> {
    const { rows } = await tx.query<{ user_id: string; username: string; email: string }>(
      `UPDATE users.password_resets r SET used_at = now()
         FROM users.users u
        WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > now() AND u.id = r.user_id
        RETURNING r.user_id, u.username, u.email`,
      [tokenHash],
    );
    const row = rows[0];
    return row && { userId: row.user_id, username: row.username, email: row.email };
  },

  /** Sets the new password and ends every session of the user (their refresh tokens). */
  async setPassword(tx: Queryable, userId: string, passwordHash: string): Promise<void> {
    await tx.query('UPDATE users.users SET password_hash = $2, updated_at = now() WHERE id = $1', [userId, passwordHash]);
    await tx.query('UPDATE users.refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [userId]);
  },
};
