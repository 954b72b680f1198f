/**
 * SQL for posts and interactions. Every query is parameterised; every read takes the viewer and
 * filters with the predicates of visibility.ts ($1..$3 are the viewer, see there).
 */
import type { TimePageRequest } from '../../kit/http/cursor.ts';
import type { Queryable } from '../../kit/deps/database.ts';
import {
  cursorTs,
  DELETED_TEXT,
  type InteractionRow,
  type InteractionType,
  type PostRow,
  type PrivacyLevel,
  type TargetType,
} from './model.ts';
import { interactionVisible, postVisible, viewerParams, type Viewer } from './visibility.ts';

const POST_SELECT = `
  SELECT p.id, p.course_id, p.author_id, u.username AS author_username, p.parent_id, p.thread_id, p.content, p.privacy_level, p.status,
         p.moderated_at, p.created_at, p.updated_at, ${cursorTs('p.created_at')} AS cursor_ts,
         (SELECT count(*)::int FROM social.posts r
           WHERE ((p.parent_id IS NULL AND r.thread_id = p.id AND r.id <> p.id) OR (p.parent_id IS NOT NULL AND r.parent_id = p.id))
             AND r.status <> 'deleted' AND ${postVisible('r')}) AS reply_count,
         (SELECT count(*)::int FROM social.interactions l
           WHERE l.interaction_type = 'like' AND l.target_type = 'post' AND l.target_id = p.id AND ${interactionVisible('l')}) AS like_count,
         EXISTS (SELECT 1 FROM social.interactions l
                  WHERE l.interaction_type = 'like' AND l.target_type = 'post' AND l.target_id = p.id AND l.user_id = $1::uuid) AS liked_by_me
    FROM social.posts p
    LEFT JOIN users.users u ON u.id = p.author_id`;

/** A deleted post is kept (as a placeholder) only while it has replies someone may still read. */
const placeholderWorthy = (p: string) =>
  `(${p}.status <> 'deleted' OR EXISTS (
     SELECT 1 FROM social.posts k
      WHERE ((${p}.parent_id IS NULL AND k.thread_id = ${p}.id AND k.id <> ${p}.id) OR (${p}.parent_id IS NOT NULL AND k.parent_id = ${p}.id))
        AND k.status <> 'deleted' AND ${postVisible('k')}))`;

const INTERACTION_COLUMNS = `i.id, i.user_id, u.username, i.interaction_type, i.target_type, i.target_id, i.course_id, i.post_id, i.content,
  i.privacy_level, i.created_at, ${cursorTs('i.created_at')} AS cursor_ts`;

export interface FeedRow extends InteractionRow {
  post_content: string | null;
}

export interface NewInteraction {
  userId: string;
  type: InteractionType;
  targetType: TargetType;
  targetId: string;
  courseId: string | null;
  postId: string | null;
  content: string | null;
  privacy: PrivacyLevel;
}

export function socialRepository(db: Queryable) {
  return {
    async course(id: string): Promise<{ id: string; instructor_id: string | null } | undefined> {
      const { rows } = await db.query<{ id: string; instructor_id: string | null }>(
        'SELECT id, instructor_id FROM content.courses WHERE id = $1',
        [id],
      );
      return rows[0];
    },

    async userExists(id: string): Promise<boolean> {
      return (await db.query('SELECT 1 FROM users.users WHERE id = $1', [id])).rowCount > 0;
    },

    async publishedContent(id: string): Promise<{ id: string; course_id: string | null } | undefined> {
      const { rows } = await db.query<{ id: string; course_id: string | null }>(
        `SELECT id, course_id FROM content.content_items WHERE id = $1 AND status = 'published'`,
        [id],
      );
      return rows[0];
    },

    /** The post if `viewer` may see it (deleted ones included, as placeholders), with its counts. */
    async findPost(viewer: Viewer, id: string, tx: Queryable = db): Promise<PostRow | undefined> {
      const { rows } = await tx.query<PostRow>(`${POST_SELECT} WHERE p.id = $4 AND ${postVisible('p')}`, [...viewerParams(viewer), id]);
      return rows[0];
    },

    /** A course's threads the viewer may see, newest first. */
    async threads(viewer: Viewer, courseId: string, page: TimePageRequest): Promise<PostRow[]> {
      const { rows } = await db.query<PostRow>(
        `${POST_SELECT}
          WHERE p.course_id = $4 AND p.parent_id IS NULL AND ${postVisible('p')} AND ${placeholderWorthy('p')}
            AND ($5::timestamptz IS NULL OR (p.created_at, p.id) < ($5::timestamptz, $6::uuid))
          ORDER BY p.created_at DESC, p.id DESC
          LIMIT $7`,
        [...viewerParams(viewer), courseId, page.after?.createdAt ?? null, page.after?.id ?? null, page.limit],
      );
      return rows;
    },

    /** Direct replies to a post the viewer may see, oldest first. */
    async replies(viewer: Viewer, parentId: string, page: TimePageRequest): Promise<PostRow[]> {
      const { rows } = await db.query<PostRow>(
        `${POST_SELECT}
          WHERE p.parent_id = $4 AND ${postVisible('p')} AND ${placeholderWorthy('p')}
            AND ($5::timestamptz IS NULL OR (p.created_at, p.id) > ($5::timestamptz, $6::uuid))
          ORDER BY p.created_at, p.id
          LIMIT $7`,
        [...viewerParams(viewer), parentId, page.after?.createdAt ?? null, page.after?.id ?? null, page.limit],
      );
      return rows;
    },

    async insertPost(
      tx: Queryable,
      p: {
        id: string;
        courseId: string;
        authorId: string;
        parentId: string | null;
        threadId: string;
        content: string;
        privacy: PrivacyLevel;
      },
    ): Promise<void> {
      await tx.query(
        `INSERT INTO social.posts (id, course_id, author_id, parent_id, thread_id, content, privacy_level) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [p.id, p.courseId, p.authorId, p.parentId, p.threadId, p.content, p.privacy],
      );
    },

    /** Soft delete: the text is replaced, the row stays for the thread's structure. False if already deleted. */
    async deletePost(id: string): Promise<boolean> {
      const { rowCount } = await db.query(
        `UPDATE social.posts SET status = 'deleted', content = $2, deleted_at = now(), updated_at = now() WHERE id = $1 AND status <> 'deleted'`,
        [id, DELETED_TEXT],
      );
      return rowCount > 0;
    },

    async setHidden(id: string, hidden: boolean, by: string, reason: string | null): Promise<boolean> {
      const { rowCount } = await db.query(
        `UPDATE social.posts SET status = CASE WHEN $2 THEN 'hidden' ELSE 'visible' END, moderated_by = $3, moderated_at = now(),
                moderation_reason = $4, updated_at = now()
          WHERE id = $1 AND status <> 'deleted'`,
        [id, hidden, by, reason],
      );
      return rowCount > 0;
    },

    async insertInteraction(tx: Queryable, n: NewInteraction): Promise<InteractionRow> {
      const { rows } = await tx.query<InteractionRow>(
        `WITH i AS (
           INSERT INTO social.interactions (user_id, interaction_type, target_type, target_id, course_id, post_id, content, privacy_level)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *)
         SELECT ${INTERACTION_COLUMNS} FROM i JOIN users.users u ON u.id = i.user_id`,
        [n.userId, n.type, n.targetType, n.targetId, n.courseId, n.postId, n.content, n.privacy],
      );
      return rows[0]!;
    },

    /**
     * Likes and follows: inserted once per (user, type, target). Concurrent repeats are safe: the
     * unique index decides, and the loser reads the winner's row.
     */
    async insertOnce(n: NewInteraction): Promise<{ row: InteractionRow; created: boolean }> {
      const { rows } = await db.query<InteractionRow>(
        `WITH i AS (
           INSERT INTO social.interactions (user_id, interaction_type, target_type, target_id, course_id, post_id, content, privacy_level)
           VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6)
           ON CONFLICT (user_id, interaction_type, target_type, target_id) WHERE interaction_type IN ('like', 'follow') DO NOTHING
           RETURNING *)
         SELECT ${INTERACTION_COLUMNS} FROM i JOIN users.users u ON u.id = i.user_id`,
        [n.userId, n.type, n.targetType, n.targetId, n.courseId, n.privacy],
      );
      if (rows[0]) return { row: rows[0], created: true };
      const existing = await db.query<InteractionRow>(
        `SELECT ${INTERACTION_COLUMNS} FROM social.interactions i JOIN users.users u ON u.id = i.user_id
          WHERE i.user_id = $1 AND i.interaction_type = $2 AND i.target_type = $3 AND i.target_id = $4`,
        [n.userId, n.type, n.targetType, n.targetId],
      );
      return { row: existing.rows[0]!, created: false };
    },

    async findInteraction(id: string): Promise<InteractionRow | undefined> {
      const { rows } = await db.query<InteractionRow>(
        `SELECT ${INTERACTION_COLUMNS} FROM social.interactions i JOIN users.users u ON u.id = i.user_id WHERE i.id = $1`,
        [id],
      );
      return rows[0];
    },

    async deleteInteraction(id: string): Promise<void> {
      await db.query('DELETE FROM social.interactions WHERE id = $1', [id]);
    },

    /**
     * `userId`'s activity and that of the users they follow (follows the viewer may see), each item
     * filtered by its own privacy, the privacy and moderation state of the post it created or
     * targets; deleted posts are left out. Newest first.
     */
    async feed(viewer: Viewer, userId: string, page: TimePageRequest): Promise<FeedRow[]> {
      const { rows } = await db.query<FeedRow>(
        `WITH followed AS (
           SELECT f.target_id AS user_id FROM social.interactions f
            WHERE f.user_id = $4 AND f.interaction_type = 'follow' AND f.target_type = 'user' AND ${interactionVisible('f')}
         )
         SELECT ${INTERACTION_COLUMNS}, p.content AS post_content
           FROM social.interactions i
           JOIN users.users u ON u.id = i.user_id
           LEFT JOIN social.posts p ON p.id = i.post_id
           LEFT JOIN social.posts tp ON i.target_type = 'post' AND tp.id = i.target_id
          WHERE (i.user_id = $4 OR i.user_id IN (SELECT user_id FROM followed))
            AND ${interactionVisible('i')}
            AND (i.post_id IS NULL OR (p.status <> 'deleted' AND ${postVisible('p')}))
            AND (i.target_type <> 'post' OR (tp.id IS NOT NULL AND tp.status <> 'deleted' AND ${postVisible('tp')}))
            AND ($5::timestamptz IS NULL OR (i.created_at, i.id) < ($5::timestamptz, $6::uuid))
          ORDER BY i.created_at DESC, i.id DESC
          LIMIT $7`,
        [...viewerParams(viewer), userId, page.after?.createdAt ?? null, page.after?.id ?? null, page.limit],
      );
      return rows;
    },
  };
}

export type SocialRepository = ReturnType<typeof socialRepository>;
