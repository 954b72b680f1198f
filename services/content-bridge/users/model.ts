/** The user shape the API answers with, and the row it comes from. */
import { z } from 'zod';
import { ROLES, type Role } from '../../kit/http/routes.ts';

export interface UserRow {
  id: string;
  external_user_id: string | null;
  username: string;
  email: string;
  password_hash: string | null;
  profile_data: Record<string, unknown>;
  roles: Role[];
  created_at: Date;
  last_login: Date | null;
  updated_at: Date;
}

export const profileSchema = z.strictObject({
  first_name: z.string().max(100).optional(),
  last_name: z.string().max(100).optional(),
  avatar_url: z.url().max(2048).optional(),
  bio: z.string().max(2000).optional(),
  location: z.string().max(200).optional(),
  experience_level: z.enum(['beginner', 'intermediate', 'expert']).optional(),
  interests: z.array(z.string().max(100)).max(50).optional(),
  preferences: z
    .strictObject({
      notification_settings: z.record(z.string(), z.unknown()).optional(),
      privacy_settings: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});
export type Profile = z.infer<typeof profileSchema>;

export const roleSchema = z.enum(ROLES);

export const userSchema = z.object({
  user_id: z.uuid(),
  username: z.string(),
  email: z.string(),
  profile: z.object({
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    avatar_url: z.string().nullable(),
    bio: z.string().nullable(),
    location: z.string().nullable(),
    experience_level: z.string().nullable(),
    interests: z.array(z.string()),
    preferences: z.record(z.string(), z.unknown()),
  }),
  roles: z.array(roleSchema),
  created_at: z.string(),
  last_login: z.string().nullable(),
});
export type User = z.infer<typeof userSchema>;

export function toUser(row: UserRow): User {
  const p = row.profile_data as Profile;
  return {
    user_id: row.id,
    username: row.username,
    email: row.email,
    profile: {
      first_name: p.first_name ?? null,
      last_name: p.last_name ?? null,
      avatar_url: p.avatar_url ?? null,
      bio: p.bio ?? null,
      location: p.location ?? null,
      experience_level: p.experience_level ?? null,
      interests: p.interests ?? [],
      preferences: p.preferences ?? {},
    },
    roles: row.roles,
    created_at: row.created_at.toISOString(),
    last_login: row.last_login ? row.last_login.toISOString() : null,
  };
}

export const usernameSchema = z
  .string()
  .min(3)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, 'may contain letters, digits, _ . and - only');

/** A profile update: self for email and profile, admin only for roles. */
export const updateUserBody = z
  .strictObject({
    email: z.email().max(254).optional(),
    profile: profileSchema.optional(),
    roles: z.array(roleSchema).min(1).max(3).optional(),
  })
  .refine((b) => b.email || b.profile || b.roles, { message: 'nothing to update' });

export type UpdateUserBody = z.infer<typeof updateUserBody>;
