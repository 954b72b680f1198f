/** Users: the caller's own account, one user's (self or admin), updates (roles by admins only), the admin listing. */
import { pageByTime } from '../../kit/http/cursor.ts';
import { problem } from '../../kit/http/problem.ts';
import type { Principal } from '../../kit/http/routes.ts';
import type { AppContext } from '../context.ts';
import { toUser, type UpdateUserBody } from './model.ts';
import { DuplicateUserError } from './repository.ts';

const isAdmin = (p: Principal) => p.roles.includes('admin');

export function usersService(app: AppContext) {
  return {
    async me(principal: Principal) {
      const user = await app.users.findById(principal.userId);
      if (!user) throw problem.notFound('Your account no longer exists');
      return toUser(user);
    },

    async get(principal: Principal, userId: string) {
      if (principal.userId !== userId && !isAdmin(principal)) throw problem.forbidden('You may only read your own profile');
      const user = await app.users.findById(userId);
      if (!user) throw problem.notFound('No such user');
      return toUser(user);
    },

    async update(principal: Principal, userId: string, body: UpdateUserBody) {
      const self = principal.userId === userId;
      if (!self && !isAdmin(principal)) throw problem.forbidden('You may only update your own profile');
      if (body.roles && !isAdmin(principal)) throw problem.forbidden('Only an admin may change roles');
      try {
        const user = await app.users.update(userId, { profile: body.profile, roles: body.roles, email: body.email });
        if (!user) throw problem.notFound('No such user');
        return toUser(user);
      } catch (err) {
        if (err instanceof DuplicateUserError) throw problem.conflict('That email is already registered');
        throw err;
      }
    },

    async list(search: string | undefined, limit: number, cursor: string | undefined) {
      const { page, next } = await pageByTime({ limit, cursor }, (request) => app.users.list({ search, ...request }));
      return { users: page.map(toUser), next_cursor: next };
    },
  };
}
