/**
 * The social flows behind the routes: forum threads and replies, moderation, feeds and interactions.
 * Every read is filtered by what the viewer may see (visibility.ts). Failures are thrown as
 * domain errors (kit/domain-error.ts); nothing here reads or writes the HTTP exchange.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../kit/deps/database.ts';
import { domain } from '../../kit/domain-error.ts';
import { pageByTime } from '../../kit/http/cursor.ts';
import type { FieldError } from '../../kit/http/problem.ts';
import type { Principal } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import {
  INTERACTION_RULES,
  privacyRank,
  toInteraction,
  toPost,
  type InteractionInput,
  type InteractionOut,
  type InteractionWithPost,
  type ModerationInput,
  type PageQuery,
  type PostInput,
  type PostOut,
  type PostRow,
  type PrivacyLevel,
} from './model.ts';
import { socialRepository } from './repository.ts';
import type { Viewer } from './visibility.ts';

export const viewerOf = (p: Principal): Viewer => ({
  userId: p.userId,
  isAdmin: p.roles.includes('admin'),
  isStaff: p.roles.some((r) => r === 'admin' || r === 'instructor'),
});

const invalid = (detail: string, location: string, message: string) => domain.invalid(detail, [{ location, message }]);

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

export function socialService(app: AppContext) {
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

  /** The course an interaction belongs to: derived from its target, or the one it names; checks both exist. */
  async function interactionCourse(viewer: Viewer, body: InteractionInput): Promise<{ courseId: string | null; target: PostRow | null }> {
    // The target must exist (and a post be visible to the caller); it fixes the course context.
    let derivedCourse: string | null = null;
    let target: PostRow | null = null;
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
        target = await targetPost(viewer, body.target_id, 'body.target_id');
        derivedCourse = target.course_id;
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
    return { courseId: derivedCourse ?? context ?? null, target };
  }

  return {
    async threads(viewer: Viewer, courseId: string, query: PageQuery): Promise<{ threads: PostOut[]; next_cursor: string | null }> {
      if (!(await repo.course(courseId))) throw domain.notFound('No such course');
      const { page, next } = await pageByTime(query, (page) => repo.threads(viewer, courseId, page));
      return { threads: page.map(toPost), next_cursor: next };
    },

    /** Starts a thread, or replies to a post of the same course. */
    async post(principal: Principal, body: PostInput): Promise<PostOut> {
      const viewer = viewerOf(principal);
      if (!(await repo.course(body.course_id))) throw invalid('The course does not exist', 'body.course_id', `no course ${body.course_id}`);
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
      const { post } = await createPost(principal, { courseId: body.course_id, parent, content: body.content, privacy });
      return toPost(post);
    },

    async postWithReplies(
      viewer: Viewer,
      postId: string,
      query: PageQuery,
    ): Promise<PostOut & { replies: PostOut[]; next_cursor: string | null }> {
      const post = await repo.findPost(viewer, postId);
      if (!post) throw domain.notFound('No such post');
      const { page, next } = await pageByTime(query, (page) => repo.replies(viewer, post.id, page));
      return { ...toPost(post), replies: page.map(toPost), next_cursor: next };
    },

    /** Deletes a post (its author, an admin or the course's instructor); deleting twice is not an error. */
    async deletePost(viewer: Viewer, postId: string): Promise<void> {
      const post = await repo.findPost(viewer, postId);
      if (!post) throw domain.notFound('No such post');
      if (post.author_id !== viewer.userId) {
        const course = await repo.course(post.course_id);
        if (!viewer.isAdmin && course?.instructor_id !== viewer.userId) {
          throw domain.forbidden("Only the author, an admin or the course's instructor may delete a post");
        }
      }
      await repo.deletePost(post.id);
    },

    async moderate(viewer: Viewer, postId: string, body: ModerationInput): Promise<PostOut> {
      const post = await repo.findPost(viewer, postId);
      if (!post) throw domain.notFound('No such post');
      const course = await repo.course(post.course_id);
      if (!viewer.isAdmin && course?.instructor_id !== viewer.userId) {
        throw domain.forbidden("Only an admin or the course's instructor may moderate its posts");
      }
      if (!(await repo.setHidden(post.id, body.action === 'hide', viewer.userId, body.reason ?? null))) {
        throw domain.conflict('A deleted post cannot be moderated', { title: 'Post Deleted' });
      }
      return toPost((await repo.findPost(viewer, post.id))!);
    },

    async feed(viewer: Viewer, userId: string, query: PageQuery): Promise<{ items: InteractionOut[]; next_cursor: string | null }> {
      if (!(await repo.userExists(userId))) throw domain.notFound('No such user');
      const { page, next } = await pageByTime(query, (page) => repo.feed(viewer, userId, page));
      return { items: page.map((r) => toInteraction(r, r.post_content)), next_cursor: next };
    },

    /** Records an interaction; `created` is false when a like or follow already existed (it is returned). */
    async interact(principal: Principal, body: InteractionInput): Promise<{ created: boolean; interaction: InteractionWithPost }> {
      const viewer = viewerOf(principal);
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
      if (errors.length) throw domain.invalid('The interaction is invalid', errors);

      const { courseId, target } = await interactionCourse(viewer, body);
      let privacy = body.metadata.privacy_level;
      if (privacy === 'course_members' && !courseId) {
        throw invalid(
          'course_members privacy needs a course',
          'body.metadata.privacy_level',
          'give metadata.course_context, or target a course, content item or post',
        );
      }

      if (body.interaction_type === 'post' || body.interaction_type === 'comment') {
        if (target) privacy = replyPrivacy(target, privacy, 'body.metadata.privacy_level');
        const { post, interaction } = await createPost(principal, { courseId: courseId!, parent: target, content: body.content!, privacy });
        return { created: true, interaction: { ...toInteraction(interaction, post.content), post: toPost(post) } };
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
        return { created, interaction: toInteraction(row) };
      }
      return { created: true, interaction: toInteraction(await repo.insertInteraction(db, input)) };
    },

    /** Undoes the caller's own like, follow or share (an admin may undo anyone's). */
    async removeInteraction(principal: Principal, interactionId: string): Promise<void> {
      const row = await repo.findInteraction(interactionId);
      if (!row || (row.user_id !== principal.userId && !principal.roles.includes('admin'))) {
        // Someone else's interaction is indistinguishable from a missing one.
        throw domain.notFound('No such interaction of yours');
      }
      if (row.post_id) {
        throw domain.conflict(`Delete post ${row.post_id} instead (DELETE /api/social/posts/{post_id})`, { title: 'Delete The Post' });
      }
      await repo.deleteInteraction(row.id);
    },
  };
}
