/** Social shapes (interactions, forum posts), request schemas and output escaping. */
import { z } from 'zod';

export const PRIVACY_LEVELS = ['public', 'course_members', 'private'] as const;
export const INTERACTION_TYPES = ['post', 'comment', 'like', 'share', 'follow'] as const;
export const TARGET_TYPES = ['course', 'content', 'user', 'post'] as const;
export type PrivacyLevel = (typeof PRIVACY_LEVELS)[number];
export type InteractionType = (typeof INTERACTION_TYPES)[number];
export type TargetType = (typeof TARGET_TYPES)[number];

export const MAX_CONTENT = 10_000;
export const DELETED_TEXT = '[deleted]';

/** Stricter levels rank higher; a reply may not be more visible than what it answers. */
export const privacyRank = (p: PrivacyLevel) => PRIVACY_LEVELS.indexOf(p);

/** Which targets each interaction type takes, and whether it carries text. */
export const INTERACTION_RULES: Record<
  InteractionType,
  { targets: readonly TargetType[]; content: 'required' | 'optional' | 'forbidden' }
> = {
  post: { targets: ['course'], content: 'required' },
  comment: { targets: ['post'], content: 'required' },
  like: { targets: ['post', 'content', 'course'], content: 'forbidden' },
  share: { targets: ['post', 'content', 'course'], content: 'optional' },
  follow: { targets: ['user'], content: 'forbidden' },
};

// NUL cannot be stored in PostgreSQL text; other C0 controls (except tab/newline/CR) have no place in posts.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** 1..10,000 characters, not only whitespace, no control characters. Stored as given (not trimmed). */
export const contentSchema = z
  .string()
  .min(1)
  .max(MAX_CONTENT)
  .refine((s) => s.trim().length > 0, { message: 'must not be blank' })
  .refine((s) => !CONTROL.test(s), { message: 'must not contain control characters' });

export const privacySchema = z.enum(PRIVACY_LEVELS);

/** HTML-escapes & < > " ' so text can be placed in HTML element content or quoted attributes. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface PostRow {
  id: string;
  course_id: string;
  author_id: string;
  author_username: string | null;
  parent_id: string | null;
  thread_id: string;
  content: string;
  privacy_level: PrivacyLevel;
  status: 'visible' | 'hidden' | 'deleted';
  moderated_at: Date | null;
  created_at: Date;
  updated_at: Date;
  cursor_ts: string;
  reply_count: number;
  like_count: number;
  liked_by_me: boolean;
}

export const postOut = z.object({
  post_id: z.uuid(),
  course_id: z.uuid(),
  parent_id: z.uuid().nullable(),
  thread_id: z.uuid(),
  author: z.object({ user_id: z.uuid(), username: z.string().nullable() }).nullable().describe('null once deleted'),
  content: z.string().describe('The raw text, as posted; never insert into HTML unescaped'),
  content_html: z.string().describe('The text HTML-escaped (& < > " \')'),
  privacy_level: privacySchema,
  status: z.enum(['visible', 'hidden', 'deleted']),
  reply_count: z.number().int().describe('Replies in the thread (threads) or direct replies (replies) the caller may see'),
  like_count: z.number().int().describe('Likes the caller may see'),
  liked_by_me: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type PostOut = z.infer<typeof postOut>;

export function toPost(row: PostRow): PostOut {
  const deleted = row.status === 'deleted';
  const text = deleted ? DELETED_TEXT : row.content;
  return {
    post_id: row.id,
    course_id: row.course_id,
    parent_id: row.parent_id,
    thread_id: row.thread_id,
    author: deleted ? null : { user_id: row.author_id, username: row.author_username },
    content: text,
    content_html: escapeHtml(text),
    privacy_level: row.privacy_level,
    status: row.status,
    reply_count: row.reply_count,
    like_count: row.like_count,
    liked_by_me: row.liked_by_me,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export interface InteractionRow {
  id: string;
  user_id: string;
  username: string | null;
  interaction_type: InteractionType;
  target_type: TargetType;
  target_id: string;
  course_id: string | null;
  post_id: string | null;
  content: string | null;
  privacy_level: PrivacyLevel;
  created_at: Date;
  cursor_ts: string;
}

export const interactionOut = z.object({
  interaction_id: z.uuid(),
  interaction_type: z.enum(INTERACTION_TYPES),
  user_id: z.uuid(),
  username: z.string().nullable(),
  target_type: z.enum(TARGET_TYPES),
  target_id: z.uuid(),
  content: z.string().nullable(),
  content_html: z.string().nullable(),
  metadata: z.object({ privacy_level: privacySchema, course_context: z.uuid().nullable() }),
  post_id: z.uuid().nullable().describe('The forum post a post/comment interaction created'),
  timestamp: z.string(),
});
export type InteractionOut = z.infer<typeof interactionOut>;

/** `content` is the interaction's own text, or for post/comment the text of the post it created. */
export function toInteraction(row: InteractionRow, postContent?: string | null): InteractionOut {
  const text = row.post_id ? (postContent ?? null) : row.content;
  return {
    interaction_id: row.id,
    interaction_type: row.interaction_type,
    user_id: row.user_id,
    username: row.username,
    target_type: row.target_type,
    target_id: row.target_id,
    content: text,
    content_html: text === null ? null : escapeHtml(text),
    metadata: { privacy_level: row.privacy_level, course_context: row.course_id },
    post_id: row.post_id,
    timestamp: row.created_at.toISOString(),
  };
}

/** SQL for a row's cursor timestamp: microsecond precision, UTC, so keyset comparisons are exact. */
export const cursorTs = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

// Request schemas of the routes (routes.ts).

export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});
export type PageQuery = z.infer<typeof pageQuery>;

export const postBody = z.strictObject({
  course_id: z.uuid(),
  content: contentSchema,
  parent_id: z.uuid().optional(),
  privacy_level: privacySchema.optional().describe("Default: 'course_members' for a thread, the parent's level for a reply"),
});
export type PostInput = z.infer<typeof postBody>;

export const moderationBody = z.strictObject({
  action: z.enum(['hide', 'unhide']),
  reason: z.string().trim().min(1).max(500).optional(),
});
export type ModerationInput = z.infer<typeof moderationBody>;

export const interactionBody = z.strictObject({
  interaction_type: z.enum(INTERACTION_TYPES),
  target_type: z.enum(TARGET_TYPES),
  target_id: z.uuid(),
  content: contentSchema.optional(),
  metadata: z.strictObject({
    privacy_level: privacySchema,
    course_context: z.uuid().optional().describe('The course this interaction belongs to (derived from course/content/post targets)'),
  }),
});
export type InteractionInput = z.infer<typeof interactionBody>;

export const interactionWithPost = interactionOut.extend({ post: postOut.optional() });
export type InteractionWithPost = z.infer<typeof interactionWithPost>;
