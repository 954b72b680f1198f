/** Who manages the registry and training, and the user id recorded as the actor of a change. */
import type { Principal } from '../../kit/http/routes.ts';

export const MANAGERS = ['admin', 'instructor'] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The caller's user id for `created_by` columns; null for callers without a user UUID (service tokens). */
export const actorId = (principal: Principal | undefined) => (principal && UUID.test(principal.userId) ? principal.userId : null);
