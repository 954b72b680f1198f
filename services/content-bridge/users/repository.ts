/** SQL for users. Every query is parameterised; nothing from a request is spliced into SQL text. */
import type { Queryable } from '../../kit/deps/database.ts';
import type { Role } from '../../kit/http/routes.ts';
import type { Profile, UserRow } from './model.ts';

const COLUMNS = 'id, external_user_id, username, email, password_hash, profile_data, roles, created_at, last_login, updated_at';

export class DuplicateUserError extends Error {}

/** How long `findByIdFresh` may reuse a row: token validation asks for the same few users all the time. */
export const USER_CACHE_MS = 2000;

export function usersRepository(db: Queryable) {
  const recent = new Map<string, { row: UserRow; until: number }>();
  const forget = (id: string) => recent.delete(id);
  return {
    /** Drops a cached row after a write that bypassed this repository. */
    forget,
    async findById(id: string): Promise<UserRow | undefined> {
      const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users.users WHERE id = $1`, [id]);
      return rows[0];
    },
    /**
     * The row, reused for up to USER_CACHE_MS. Writes through this repository forget it at once;
     * writes elsewhere (another replica, a webhook) show within that bound.
     */
    async findByIdFresh(id: string): Promise<UserRow | undefined> {
      const hit = recent.get(id);
      if (hit && hit.until > Date.now()) return hit.row;
      const row = await this.findById(id);
      if (recent.size >= 10_000) recent.delete(recent.keys().next().value!);
      if (row) recent.set(id, { row, until: Date.now() + USER_CACHE_MS });
      else recent.delete(id);
      return row;
    },
    async findByLogin(login: { username?: string | undefined; email?: string | undefined }): Promise<UserRow | undefined> {
      const { rows } = login.email
        ? await db.query<UserRow>(`SELECT ${COLUMNS} FROM users.users WHERE lower(email) = lower($1)`, [login.email])
        : await db.query<UserRow>(`SELECT ${COLUMNS} FROM users.users WHERE lower(username) = lower($1)`, [login.username ?? '']);
      return rows[0];
    },
    async findByExternalId(externalId: string): Promise<UserRow | undefined> {
      const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users.users WHERE external_user_id = $1`, [externalId]);
      return rows[0];
    },
    async create(input: {
      username: string;
      email: string;
      passwordHash: string | null;
      profile: Profile;
      roles: Role[];
      externalUserId?: string;
    }): Promise<UserRow> {
      try {
        const { rows } = await db.query<UserRow>(
          `INSERT INTO users.users (username, email, password_hash, profile_data, roles, external_user_id)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
          [
            input.username,
            input.email,
            input.passwordHash,
            JSON.stringify(input.profile),
            JSON.stringify(input.roles),
            input.externalUserId ?? null,
          ],
        );
        return rows[0]!;
      } catch (err) {
        if ((err as { code?: string }).code === '23505') throw new DuplicateUserError('username or email already registered');
        throw err;
      }
    },
    async update(id: string, changes: { profile?: Profile; roles?: Role[]; email?: string }): Promise<UserRow | undefined> {
      forget(id);
      try {
        const { rows } = await db.query<UserRow>(
          `UPDATE users.users SET
             profile_data = CASE WHEN $2::jsonb IS NULL THEN profile_data ELSE profile_data || $2::jsonb END,
             roles = coalesce($3::jsonb, roles),
             email = coalesce($4, email),
             updated_at = now()
           WHERE id = $1 RETURNING ${COLUMNS}`,
          [
            id,
            changes.profile ? JSON.stringify(changes.profile) : null,
            changes.roles ? JSON.stringify(changes.roles) : null,
            changes.email ?? null,
          ],
        );
        return rows[0];
      } catch (err) {
        if ((err as { code?: string }).code === '23505') throw new DuplicateUserError('email already registered');
        throw err;
      }
    },
    async setPassword(id: string, passwordHash: string): Promise<void> {
      forget(id);
      await db.query('UPDATE users.users SET password_hash = $2, updated_at = now() WHERE id = $1', [id, passwordHash]);
    },
    async touchLogin(id: string): Promise<void> {
      forget(id);
      await db.query('UPDATE users.users SET last_login = now() WHERE id = $1', [id]);
    },
    async anyAdmin(): Promise<boolean> {
      const { rows } = await db.query(`SELECT 1 FROM users.users WHERE roles ? 'admin' LIMIT 1`);
      return rows.length > 0;
    },
    /** Keyset pagination on (created_at, id); `search` matches username or email by substring. */
    async list(opts: {
      search?: string | undefined;
      limit: number;
      after?: { createdAt: string; id: string } | undefined;
    }): Promise<Array<UserRow & { cursor_ts: string }>> {
      const pattern = opts.search ? `%${opts.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
      const { rows } = await db.query<UserRow & { cursor_ts: string }>(
        `SELECT ${COLUMNS}, created_at::text AS cursor_ts FROM users.users
         WHERE ($1::text IS NULL OR username ILIKE $1 OR email ILIKE $1)
           AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
         ORDER BY created_at, id LIMIT $4`,
        [pattern, opts.after?.createdAt ?? null, opts.after?.id ?? null, opts.limit],
      );
      return rows;
    },
  };
}

export type UsersRepository = ReturnType<typeof usersRepository>;
