/** Profiles: the caller's own, one user's (self or admin), updates, and the admin listing. */
import { z } from 'zod';
import { cursorQuery, decodeTimeCursor, paginate } from '../../kit/http/cursor.ts';
import { problem } from '../../kit/http/problem.ts';
import { route, type Principal, type RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { profileSchema, roleSchema, toUser, userSchema } from './model.ts';
import { DuplicateUserError } from './repository.ts';

const userIdParams = z.strictObject({ user_id: z.uuid() });

const isAdmin = (p: Principal | undefined) => Boolean(p?.roles.includes('admin'));

const updateBody = z
  .strictObject({
    email: z.email().max(254).optional(),
    profile: profileSchema.optional(),
    roles: z.array(roleSchema).min(1).max(3).optional(),
  })
  .refine((b) => b.email || b.profile || b.roles, { message: 'nothing to update' });

export function userRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: ['/user/profile', '/api/users/me'],
      summary: "The caller's own user",
      tags: ['users'],
      access: 'authenticated',
      responses: { 200: { description: 'The user', schema: userSchema } },
      async handler({ ctx, principal }) {
        const user = await app.users.findById(principal!.userId);
        if (!user) throw problem.notFound('Your account no longer exists');
        ctx.body = toUser(user);
      },
    }),
    route({
      method: 'get',
      path: '/api/users/{user_id}',
      summary: 'One user: the user themself or an admin',
      tags: ['users'],
      access: 'authenticated',
      params: userIdParams,
      responses: { 200: { description: 'The user', schema: userSchema } },
      async handler({ ctx, params, principal }) {
        if (principal!.userId !== params.user_id && !isAdmin(principal)) throw problem.forbidden('You may only read your own profile');
        const user = await app.users.findById(params.user_id);
        if (!user) throw problem.notFound('No such user');
        ctx.body = toUser(user);
      },
    }),
    route({
      method: 'put',
      path: '/api/users/{user_id}',
      summary: 'Update profile fields (self) or roles (admin only)',
      tags: ['users'],
      access: 'authenticated',
      params: userIdParams,
      body: updateBody,
      responses: { 200: { description: 'The updated user', schema: userSchema } },
      async handler({ ctx, params, body, principal }) {
        const self = principal!.userId === params.user_id;
        if (!self && !isAdmin(principal)) throw problem.forbidden('You may only update your own profile');
        if (body.roles && !isAdmin(principal)) throw problem.forbidden('Only an admin may change roles');
        try {
          const user = await app.users.update(params.user_id, { profile: body.profile, roles: body.roles, email: body.email });
          if (!user) throw problem.notFound('No such user');
          ctx.body = toUser(user);
        } catch (err) {
          if (err instanceof DuplicateUserError) throw problem.conflict('That email is already registered');
          throw err;
        }
      },
    }),
    route({
      method: 'get',
      path: '/admin/users',
      summary: 'All users, paginated and searchable by username or email',
      tags: ['users'],
      access: ['admin'],
      query: z.strictObject({
        q: z.string().max(254).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
        cursor: z.string().max(500).optional(),
      }),
      responses: {
        200: { description: 'A page of users', schema: z.object({ users: z.array(userSchema), next_cursor: z.string().nullable() }) },
      },
      async handler({ ctx, query }) {
        const after = query.cursor ? decodeTimeCursor(query.cursor) : undefined;
        const rows = await cursorQuery(() => app.users.list({ search: query.q, limit: query.limit + 1, after }));
        const { page, next } = paginate(rows, query.limit, (r) => ({ order: 'time', createdAt: r.cursor_ts, id: r.id }));
        ctx.body = {
          users: page.map(toUser),
          next_cursor: next,
        };
      },
    }),
  ];
}
