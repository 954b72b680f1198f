/** Auth request bodies and the token pair answer. */
import { z } from 'zod';
import { profileSchema, userSchema, usernameSchema } from '../users/model.ts';

export const registerBody = z.strictObject({
  username: usernameSchema,
  email: z.email().max(254),
  password: z.string().max(1024),
  profile: profileSchema.optional(),
});

export const loginBody = z
  .strictObject({
    username: z.string().min(1).max(254).optional(),
    email: z.string().min(1).max(254).optional(),
    password: z.string().min(1).max(1024),
  })
  .refine((b) => Boolean(b.username) !== Boolean(b.email), { message: 'give either username or email' });

export const tokenPairSchema = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number(),
  refresh_token: z.string(),
  user: userSchema,
});

export const resetBody = z.union([
  z.strictObject({ email: z.email().max(254) }),
  z.strictObject({ token: z.string().min(10).max(200), new_password: z.string().max(1024) }),
]);

export type RegisterBody = z.infer<typeof registerBody>;
export type LoginBody = z.infer<typeof loginBody>;
