/** Profiles over HTTP: the caller's own, one user's (self or admin), updates, and the admin listing. */
import { z } from 'zod';
import { route, type RouteSpec } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { updateUserBody, userSchema } from './model.ts';
import { usersService } from './service.ts';

const userIdParams = z.strictObject({ user_id: z.uuid() });

export function userRoutes(app: AppContext): RouteSpec[] {
  const users = usersService(app);
  return [
    route({
      method: 'get',
      path: ['/user/profile', '/api/users/me'],
      summary: "The caller's own user",
      tags: ['users'],
      access: 'authenticated',
      responses: { 200: { description: 'The user', schema: userSchema } },
      async handler({ ctx, principal }) {
        ctx.body = await users.me(principal!);
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
        ctx.body = await users.get(principal!, params.user_id);
      },
    }),
    route({
      method: 'put',
      path: '/api/users/{user_id}',
      summary: 'Update profile fields (self) or roles (admin only)',
      tags: ['users'],
      access: 'authenticated',
      params: userIdParams,
      body: updateUserBody,
      responses: { 200: { description: 'The updated user', schema: userSchema } },
      async handler({ ctx, params, body, principal }) {
        ctx.body = await users.update(principal!, params.user_id, body);
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
        ctx.body = await users.list(query.q, query.limit, query.cursor);
      },
    }),
  ];
}
