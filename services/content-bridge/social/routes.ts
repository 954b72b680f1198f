/**
 * Social features (issue 4 §3): course forums (threads and replies), interactions (post, comment,
 * like, share, follow) and activity feeds. Every route needs a signed-in user, and every read is
 * filtered by privacy (visibility.ts). Text is stored raw and returned both raw (`content`, in JSON
 * only) and HTML-escaped (`content_html`). See README.md in this folder for the rules.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Queryable } from '../../kit/deps/database.ts';
import { ProblemError, problem, type FieldError } from '../../kit/http/problem.ts';
import { route, type Principal, type RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import {
  contentSchema,
  decodeCursor,
  encodeCursor,
  INTERACTION_RULES,
  INTERACTION_TYPES,
  interactionOut,
  postOut,
  privacyRank,
  privacySchema,
  TARGET_TYPES,
  toInteraction,
  toPost,
  type PostRow,
  type PrivacyLevel,
} from './model.ts';
import { socialRepository, type Page } from './repository.ts';
import type { Viewer } from './visibility.ts';

const viewerOf = (p: Principal): Viewer => ({
  userId: p.userId,
  isAdmin: p.roles.includes('admin'),
  isStaff: p.roles.some((r) => r === 'admin' || r === 'instructor'),
});

const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

function toPage(query: z.infer<typeof pageQuery>): Page {
  if (!query.cursor) return { limit: query.limit + 1 };
  try {
    return { limit: query.limit + 1, after: decodeCursor(query.cursor) };
  } catch {
    throw problem.unprocessable('The cursor is invalid', [{ location: 'query.cursor', message: 'not a cursor from this API' }]);
  }
}

/** Rows were fetched with limit + 1: the extra row only says there is a next page. */
function paginate<R extends { cursor_ts: string; id: string }>(rows: R[], limit: number): { page: R[]; next: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, next: rows.length > limit && last ? encodeCursor(last.cursor_ts, last.id) : null };
}

const invalid = (detail: string, location: string, message: string) => problem.unprocessable(detail, [{ location, message }]);

const postBody = z.strictObject({
  course_id: z.uuid(),
  content: contentSchema,
  parent_id: z.uuid().optional(),
  privacy_level: privacySchema.optional().describe("Default: 'course_members' for a thread, the parent's level for a reply"),
});

const interactionBody = z.strictObject({
  interaction_type: z.enum(INTERACTION_TYPES),
  target_type: z.enum(TARGET_TYPES),
  target_id: z.uuid(),
  content: contentSchema.optional(),
  metadata: z.strictObject({
    privacy_level: privacySchema,
    course_context: z.uuid().optional().describe('The course this interaction belongs to (derived from course/content/post targets)'),
  }),
});

const interactionWithPost = interactionOut.extend({ post: postOut.optional() });

const newPostRow = (p: {
  id: string;
  courseId: string;
  authorId: string;
  username: string;
  parentId: string | null;
  threadId: string;
  content: string;
  privacy: PrivacyLevel;
}): PostRow => {
  const now = new Date();
  return {
    id: p.id,
    course_id: p.courseId,
    author_id: p.authorId,
    author_username: p.username,
    parent_id: p.parentId,
    thread_id: p.threadId,
    content: p.content,
    privacy_level: p.privacy,
    status: 'visible',
    moderated_at: null,
    created_at: now,
    updated_at: now,
    cursor_ts: '',
    reply_count: 0,
    like_count: 0,
    liked_by_me: false,
  };
};

export function socialRoutes(app: AppContext): RouteSpec[] {
  const { db } = app.deps;
  const repo = socialRepository(db);

  /** A post the caller may reply to, like or share; 422 (not 404: it is a body reference) otherwise. */
  async function targetPost(viewer: Viewer, id: string, location: string): Promise<PostRow> {
    const post = await repo.findPost(viewer, id);
    if (!post) throw invalid('The post does not exist', location, `no post ${id}`);
    if (post.status === 'deleted') throw invalid('The post was deleted', location, `post ${id} was deleted`);
    if (post.status === 'hidden') throw invalid('The post is hidden by a moderator', location, `post ${id} is hidden`);
    return post;
  }

  /** Resolves a reply's privacy: inherited from the parent, or an explicit level at least as strict. */
  function replyPrivacy(parent: PostRow, requested: PrivacyLevel | undefined, location: string): PrivacyLevel {
    if (!requested) return parent.privacy_level;
    if (privacyRank(requested) < privacyRank(parent.privacy_level)) {
      throw invalid('A reply cannot be more visible than the post it answers', location, `the parent is '${parent.privacy_level}'`);
    }
    return requested;
  }

  /** Creates a thread or reply and the post/comment interaction that records it, in one transaction. */
  async function createPost(
    principal: Principal,
    p: { courseId: string; parent: PostRow | null; content: string; privacy: PrivacyLevel },
  ): Promise<{ post: PostRow; interaction: Awaited<ReturnType<typeof repo.insertInteraction>> }> {
    const id = randomUUID();
    const threadId = p.parent ? p.parent.thread_id : id;
    const interaction = await db.transaction(async (tx: Queryable) => {
      await repo.insertPost(tx, {
        id,
        courseId: p.courseId,
        authorId: principal.userId,
        parentId: p.parent?.id ?? null,
        threadId,
        content: p.content,
        privacy: p.privacy,
      });
      return repo.insertInteraction(tx, {
        userId: principal.userId,
        type: p.parent ? 'comment' : 'post',
        targetType: p.parent ? 'post' : 'course',
        targetId: p.parent?.id ?? p.courseId,
        courseId: p.courseId,
        postId: id,
        content: null,
        privacy: p.privacy,
      });
    });
    const post = newPostRow({
      id,
      courseId: p.courseId,
      authorId: principal.userId,
      username: principal.username,
      parentId: p.parent?.id ?? null,
      threadId,
      content: p.content,
      privacy: p.privacy,
    });
    post.created_at = post.updated_at = interaction.created_at;
    return { post, interaction };
  }

  return [
    route({
      method: 'get',
      path: '/api/social/forums/{course_id}',
      summary: "A course forum's threads the caller may see, newest first (keyset pagination), with reply and like counts",
      tags: ['social'],
      access: 'authenticated',
      params: z.strictObject({ course_id: z.uuid() }),
      query: pageQuery,
      responses: {
        200: {
          description: 'A page of threads',
          schema: z.object({ course_id: z.uuid(), threads: z.array(postOut), next_cursor: z.string().nullable() }),
        },
      },
      async handler({ ctx, params, query, principal }) {
        if (!(await repo.course(params.course_id))) throw problem.notFound('No such course');
        const rows = await repo.threads(viewerOf(principal!), params.course_id, toPage(query));
        const { page, next } = paginate(rows, query.limit);
        ctx.body = { course_id: params.course_id, threads: page.map(toPost), next_cursor: next };
      },
    }),
    route({
      method: 'post',
      path: '/api/social/posts',
      summary: 'Start a thread in a course forum, or reply to a post of the same course',
      tags: ['social'],
      access: 'authenticated',
      body: postBody,
      responses: { 201: { description: 'The post', schema: postOut } },
      async handler({ ctx, body, principal }) {
        const viewer = viewerOf(principal!);
        if (!(await repo.course(body.course_id)))
          throw invalid('The course does not exist', 'body.course_id', `no course ${body.course_id}`);
        let parent: PostRow | null = null;
        let privacy: PrivacyLevel = body.privacy_level ?? 'course_members';
        if (body.parent_id) {
          parent = await targetPost(viewer, body.parent_id, 'body.parent_id');
          if (parent.course_id !== body.course_id) {
            throw invalid(
              'The parent post belongs to another course',
              'body.parent_id',
              `post ${parent.id} is in course ${parent.course_id}`,
            );
          }
          privacy = replyPrivacy(parent, body.privacy_level, 'body.privacy_level');
        }
        const { post } = await createPost(principal!, { courseId: body.course_id, parent, content: body.content, privacy });
        ctx.status = 201;
        ctx.set('Location', `/api/social/posts/${post.id}`);
        ctx.body = toPost(post);
      },
    }),
    route({
      method: 'get',
      path: '/api/social/posts/{post_id}',
      summary: 'One post the caller may see, with a page of its direct replies (oldest first)',
      tags: ['social'],
      access: 'authenticated',
      params: z.strictObject({ post_id: z.uuid() }),
      query: pageQuery,
      responses: {
        200: {
          description: 'The post and replies',
          schema: postOut.extend({ replies: z.array(postOut), next_cursor: z.string().nullable() }),
        },
      },
      async handler({ ctx, params, query, principal }) {
        const viewer = viewerOf(principal!);
        const post = await repo.findPost(viewer, params.post_id);
        if (!post) throw problem.notFound('No such post');
        const { page, next } = paginate(await repo.replies(viewer, post.id, toPage(query)), query.limit);
        ctx.body = { ...toPost(post), replies: page.map(toPost), next_cursor: next };
      },
    }),
    route({
      method: 'delete',
      path: '/api/social/posts/{post_id}',
      summary: "Delete a post (its author, an admin or the course's instructor): the text becomes '[deleted]'",
      tags: ['social'],
      access: 'authenticated',
      params: z.strictObject({ post_id: z.uuid() }),
      responses: { 204: { description: 'Deleted (also when it already was)' } },
      async handler({ ctx, params, principal }) {
        const viewer = viewerOf(principal!);
        const post = await repo.findPost(viewer, params.post_id);
        if (!post) throw problem.notFound('No such post');
        if (post.author_id !== viewer.userId) {
          const course = await repo.course(post.course_id);
          if (!viewer.isAdmin && course?.instructor_id !== viewer.userId) {
            throw problem.forbidden("Only the author, an admin or the course's instructor may delete a post");
          }
        }
        await repo.deletePost(post.id);
        ctx.status = 204;
      },
    }),
    route({
      method: 'post',
      path: '/api/social/posts/{post_id}/moderation',
      summary: "Hide or unhide a post (an admin or the course's instructor); hidden posts are seen only by their author and moderators",
      tags: ['social'],
      access: 'authenticated',
      params: z.strictObject({ post_id: z.uuid() }),
      body: z.strictObject({ action: z.enum(['hide', 'unhide']), reason: z.string().trim().min(1).max(500).optional() }),
      responses: { 200: { description: 'The post after moderation', schema: postOut } },
      async handler({ ctx, params, body, principal }) {
        const viewer = viewerOf(principal!);
        const post = await repo.findPost(viewer, params.post_id);
        if (!post) throw problem.notFound('No such post');
        const course = await repo.course(post.course_id);
        if (!viewer.isAdmin && course?.instructor_id !== viewer.userId) {
          throw problem.forbidden("Only an admin or the course's instructor may moderate its posts");
        }
        if (!(await repo.setHidden(post.id, body.action === 'hide', viewer.userId, body.reason ?? null))) {
          throw new ProblemError({ status: 409, title: 'Post Deleted', detail: 'A deleted post cannot be moderated' });
        }
        ctx.body = toPost((await repo.findPost(viewer, post.id))!);
      },
    }),
    route({
      method: 'get',
      path: '/api/social/users/{user_id}/feed',
      summary: "A user's activity and that of the users they follow, newest first, limited to what the caller may see",
      tags: ['social'],
      access: 'authenticated',
      params: z.strictObject({ user_id: z.uuid() }),
      query: pageQuery,
      responses: {
        200: {
          description: 'A page of activity',
          schema: z.object({ user_id: z.uuid(), items: z.array(interactionOut), next_cursor: z.string().nullable() }),
        },
      },
      async handler({ ctx, params, query, principal }) {
        if (!(await repo.userExists(params.user_id))) throw problem.notFound('No such user');
        const rows = await repo.feed(viewerOf(principal!), params.user_id, toPage(query));
        const { page, next } = paginate(rows, query.limit);
        ctx.body = { user_id: params.user_id, items: page.map((r) => toInteraction(r, r.post_content)), next_cursor: next };
      },
    }),
    route({
      method: 'post',
      path: '/api/social/interactions',
      summary: 'Record an interaction; likes and follows are idempotent (a repeat returns the existing record with 200)',
      tags: ['social'],
      access: 'authenticated',
      body: interactionBody,
      responses: {
        200: { description: 'The existing like or follow', schema: interactionWithPost },
        201: { description: 'The new interaction (post/comment also return the post they created)', schema: interactionWithPost },
      },
      async handler({ ctx, body, principal }) {
        const viewer = viewerOf(principal!);
        const rule = INTERACTION_RULES[body.interaction_type];
        const errors: FieldError[] = [];
        if (!rule.targets.includes(body.target_type)) {
          errors.push({ location: 'body.target_type', message: `a ${body.interaction_type} targets: ${rule.targets.join(', ')}` });
        }
        if (rule.content === 'required' && body.content === undefined) {
          errors.push({ location: 'body.content', message: `a ${body.interaction_type} needs content` });
        }
        if (rule.content === 'forbidden' && body.content !== undefined) {
          errors.push({ location: 'body.content', message: `a ${body.interaction_type} takes no content` });
        }
        if (body.interaction_type === 'follow' && body.target_id === viewer.userId) {
          errors.push({ location: 'body.target_id', message: 'you cannot follow yourself' });
        }
        if (errors.length) throw problem.unprocessable('The interaction is invalid', errors);

        // The target must exist (and a post be visible to the caller); it fixes the course context.
        let derivedCourse: string | null = null;
        let targetPostRow: PostRow | null = null;
        switch (body.target_type) {
          case 'course':
            if (!(await repo.course(body.target_id)))
              throw invalid('The target does not exist', 'body.target_id', `no course ${body.target_id}`);
            derivedCourse = body.target_id;
            break;
          case 'content': {
            const item = await repo.publishedContent(body.target_id);
            if (!item) throw invalid('The target does not exist', 'body.target_id', `no content item ${body.target_id}`);
            derivedCourse = item.course_id;
            break;
          }
          case 'post':
            targetPostRow = await targetPost(viewer, body.target_id, 'body.target_id');
            derivedCourse = targetPostRow.course_id;
            break;
          case 'user':
            if (!(await repo.userExists(body.target_id)))
              throw invalid('The target does not exist', 'body.target_id', `no user ${body.target_id}`);
            break;
        }
        const context = body.metadata.course_context;
        if (context !== undefined) {
          if (derivedCourse && context !== derivedCourse) {
            throw invalid(
              'The course context does not match the target',
              'body.metadata.course_context',
              `the target belongs to course ${derivedCourse}`,
            );
          }
          if (!derivedCourse && !(await repo.course(context))) {
            throw invalid('The course context does not exist', 'body.metadata.course_context', `no course ${context}`);
          }
        }
        const courseId = derivedCourse ?? context ?? null;
        let privacy = body.metadata.privacy_level;
        if (privacy === 'course_members' && !courseId) {
          throw invalid(
            'course_members privacy needs a course',
            'body.metadata.privacy_level',
            'give metadata.course_context, or target a course, content item or post',
          );
        }

        if (body.interaction_type === 'post' || body.interaction_type === 'comment') {
          if (targetPostRow) privacy = replyPrivacy(targetPostRow, privacy, 'body.metadata.privacy_level');
          const { post, interaction } = await createPost(principal!, {
            courseId: courseId!,
            parent: targetPostRow,
            content: body.content!,
            privacy,
          });
          ctx.status = 201;
          ctx.body = { ...toInteraction(interaction, post.content), post: toPost(post) };
          return;
        }
        const input = {
          userId: viewer.userId,
          type: body.interaction_type,
          targetType: body.target_type,
          targetId: body.target_id,
          courseId,
          postId: null,
          content: body.content ?? null,
          privacy,
        };
        if (body.interaction_type === 'like' || body.interaction_type === 'follow') {
          const { row, created } = await repo.insertOnce(input);
          ctx.status = created ? 201 : 200;
          ctx.body = toInteraction(row);
          return;
        }
        ctx.status = 201;
        ctx.body = toInteraction(await repo.insertInteraction(db, input));
      },
    }),
    route({
      method: 'delete',
      path: '/api/social/interactions/{interaction_id}',
      summary: 'Undo your own like, follow or share (posts and comments are deleted through their post)',
      tags: ['social'],
      access: 'authenticated',
      params: z.strictObject({ interaction_id: z.uuid() }),
      responses: { 204: { description: 'Removed' } },
      async handler({ ctx, params, principal }) {
        const row = await repo.findInteraction(params.interaction_id);
        if (!row || (row.user_id !== principal!.userId && !principal!.roles.includes('admin'))) {
          // Someone else's interaction is indistinguishable from a missing one.
          throw problem.notFound('No such interaction of yours');
        }
        if (row.post_id) {
          throw new ProblemError({
            status: 409,
            title: 'Delete The Post',
            detail: `Delete post ${row.post_id} instead (DELETE /api/social/posts/{post_id})`,
          });
        }
        await repo.deleteInteraction(row.id);
        ctx.status = 204;
      },
    }),
  ];
}
