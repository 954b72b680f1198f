/**
 * Social features (issue 4 §3): course forums (threads and replies), interactions (post, comment,
 * like, share, follow) and activity feeds. Every route needs a signed-in user, and every read is
 * filtered by privacy (visibility.ts). Text is stored raw and returned both raw (`content`, in JSON
 * only) and HTML-escaped (`content_html`). See README.md in this folder for the rules.
 */
import { z } from 'zod';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { interactionBody, interactionOut, interactionWithPost, moderationBody, pageQuery, postBody, postOut } from './model.ts';
import { socialService, viewerOf } from './service.ts';

export function socialRoutes(app: AppContext): RouteSpec[] {
  const service = socialService(app);

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
        ctx.body = { course_id: params.course_id, ...(await service.threads(viewerOf(principal!), params.course_id, query)) };
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
        const post = await service.post(principal!, body);
        ctx.status = 201;
        ctx.set('Location', `/api/social/posts/${post.post_id}`);
        ctx.body = post;
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
        ctx.body = await service.postWithReplies(viewerOf(principal!), params.post_id, query);
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
        await service.deletePost(viewerOf(principal!), params.post_id);
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
      body: moderationBody,
      responses: { 200: { description: 'The post after moderation', schema: postOut } },
      async handler({ ctx, params, body, principal }) {
        ctx.body = await service.moderate(viewerOf(principal!), params.post_id, body);
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
        ctx.body = { user_id: params.user_id, ...(await service.feed(viewerOf(principal!), params.user_id, query)) };
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
        const { created, interaction } = await service.interact(principal!, body);
        ctx.status = created ? 201 : 200;
        ctx.body = interaction;
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
        await service.removeInteraction(principal!, params.interaction_id);
        ctx.status = 204;
      },
    }),
  ];
}
