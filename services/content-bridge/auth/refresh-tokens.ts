/**
 * Opaque refresh tokens, stored as SHA-256 hashes. Each use rotates the token; presenting a token
 * that was already rotated means it leaked, so the whole family (every token descended from that
 * login) is revoked.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Database } from '../../kit/deps/database.ts';

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export class RefreshTokenError extends Error {}

export function refreshTokens(db: Database, ttlSeconds: number) {
  const insert = async (q: Pick<Database, 'query'>, userId: string, familyId: string) => {
    const token = randomBytes(32).toString('base64url');
    await q.query(
      `INSERT INTO users.refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
      [userId, familyId, hashToken(token), ttlSeconds],
    );
    return token;
  };
  return {
    issue: (userId: string) => insert(db, userId, randomUUID()),

    /** Exchanges a refresh token for a new one; returns the user it belongs to. */
    async rotate(token: string): Promise<{ userId: string; token: string }> {
      const outcome = await db.transaction(async (tx) => {
        const { rows } = await tx.query<{
          id: string;
          user_id: string;
          family_id: string;
          expired: boolean;
          rotated_at: Date | null;
          revoked_at: Date | null;
        }>(
          `SELECT id, user_id, family_id, expires_at < now() AS expired, rotated_at, revoked_at
             FROM users.refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
          [hashToken(token)],
        );
        const row = rows[0];
        if (!row) return { error: 'unknown refresh token' } as const;
        if (row.revoked_at) return { error: 'refresh token revoked' } as const;
        if (row.rotated_at) {
          // Reuse of a rotated token: revoke the family, and commit that even though we refuse.
          await tx.query('UPDATE users.refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL', [row.family_id]);
          return { error: 'refresh token reuse detected; all sessions of this login were revoked' } as const;
        }
        if (row.expired) return { error: 'refresh token expired' } as const;
        await tx.query('UPDATE users.refresh_tokens SET rotated_at = now() WHERE id = $1', [row.id]);
        return { userId: row.user_id, token: await insert(tx, row.user_id, row.family_id) };
      });
      if ('error' in outcome) throw new RefreshTokenError(outcome.error);
      return outcome;
    },

    async revokeFamilyOf(token: string): Promise<void> {
      await db.query(
        `UPDATE users.refresh_tokens SET revoked_at = now()
          WHERE family_id = (SELECT family_id FROM users.refresh_tokens WHERE token_hash = $1) AND revoked_at IS NULL`,
        [hashToken(token)],
      );
    },

    async revokeAllForUser(userId: string): Promise<void> {
      await db.query('UPDATE users.refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [userId]);
    },
  };
}

export type RefreshTokens = ReturnType<typeof refreshTokens>;
