/** The content shape the API answers with, the row it comes from, and the request schemas. */
import { z } from 'zod';
import { versionTag } from '../../kit/http/conditional.ts';
import { CONTENT_TYPES, MEDIA_TYPES, type ContentType } from './sniff.ts';

export const contentTypeSchema = z.enum(CONTENT_TYPES);
export const difficultySchema = z.enum(['beginner', 'intermediate', 'advanced']);
export const mediaTypeSchema = z.enum(MEDIA_TYPES);

const tag = z
  .string()
  .trim()
  .min(1)
  .max(50)
  .transform((t) => t.toLowerCase());

/** The metadata object, as clients send it (upload `metadata` field, presigned upload body). */
export const metadataInputSchema = z.strictObject({
  duration_minutes: z.number().int().min(0).max(100_000).optional(),
  difficulty_level: difficultySchema.optional(),
  tags: z.array(tag).max(50).optional(),
  prerequisites: z.array(z.uuid()).max(100).optional(),
  learning_objectives: z.array(z.string().trim().min(1).max(500)).max(50).optional(),
  description: z.string().max(10_000).optional(),
});
export type MetadataInput = z.infer<typeof metadataInputSchema>;

export const titleSchema = z.string().trim().min(1).max(255);

/** What the `metadata` jsonb column holds; prerequisites and description have their own columns. */
export interface StoredMetadata {
  duration_minutes?: number;
  difficulty_level?: z.infer<typeof difficultySchema>;
  tags?: string[];
  learning_objectives?: string[];
}

export function storedMetadata(input: MetadataInput | undefined): StoredMetadata {
  const m: StoredMetadata = {};
  if (input?.duration_minutes !== undefined) m.duration_minutes = input.duration_minutes;
  if (input?.difficulty_level !== undefined) m.difficulty_level = input.difficulty_level;
  if (input?.tags !== undefined) m.tags = [...new Set(input.tags)];
  if (input?.learning_objectives !== undefined) m.learning_objectives = input.learning_objectives;
  return m;
}

export interface ContentRow {
  id: string;
  course_id: string | null;
  title: string;
  description: string;
  content_type: z.infer<typeof contentTypeSchema>;
  file_path: string | null;
  mime_type: string | null;
  size_bytes: string | null; // bigint arrives as a string
  sha256: string | null;
  thumbnail_path: string | null;
  metadata: StoredMetadata;
  sequence_number: number | null;
  prerequisites: string[];
  status: 'pending' | 'published';
  version: number;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export const CONTENT_COLUMNS =
  'id, course_id, title, description, content_type, file_path, mime_type, size_bytes, sha256, thumbnail_path, metadata, sequence_number, prerequisites, status, version, created_by, created_at, updated_at';

/** The cacheable part of a content item: everything except the short-lived presigned URLs. */
export interface ContentDoc {
  content_id: string;
  title: string;
  type: z.infer<typeof contentTypeSchema>;
  description: string;
  metadata: {
    duration_minutes: number | null;
    difficulty_level: string | null;
    tags: string[];
    prerequisites: string[];
    learning_objectives: string[];
  };
  course_id: string | null;
  sequence_number: number | null;
  object_key: string | null;
  thumbnail_key: string | null;
  mime_type: string | null;
  size_bytes: number | null;
  sha256: string | null;
  version: number;
  etag: string;
  created_at: string;
  updated_at: string;
}

export const etagFor = versionTag;

export function toDoc(row: ContentRow): ContentDoc {
  return {
    content_id: row.id,
    title: row.title,
    type: row.content_type,
    description: row.description,
    metadata: {
      duration_minutes: row.metadata.duration_minutes ?? null,
      difficulty_level: row.metadata.difficulty_level ?? null,
      tags: row.metadata.tags ?? [],
      prerequisites: row.prerequisites,
      learning_objectives: row.metadata.learning_objectives ?? [],
    },
    course_id: row.course_id,
    sequence_number: row.sequence_number,
    object_key: row.file_path,
    thumbnail_key: row.thumbnail_path,
    mime_type: row.mime_type,
    size_bytes: row.size_bytes === null ? null : Number(row.size_bytes),
    sha256: row.sha256,
    version: row.version,
    etag: etagFor(row.version),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export const contentSchema = z.object({
  content_id: z.uuid(),
  title: z.string(),
  type: contentTypeSchema,
  description: z.string(),
  metadata: z.object({
    duration_minutes: z.number().int().nullable(),
    difficulty_level: z.string().nullable(),
    tags: z.array(z.string()),
    prerequisites: z.array(z.uuid()),
    learning_objectives: z.array(z.string()),
  }),
  content_url: z.string().describe('Presigned GET URL, valid for PRESIGN_TTL_SECONDS'),
  thumbnail_url: z.string().nullable(),
  course_id: z.uuid().nullable(),
  sequence_number: z.number().int().nullable(),
  object_key: z.string().nullable(),
  mime_type: z.string().nullable(),
  size_bytes: z.number().int().nullable(),
  sha256: z.string().nullable(),
  version: z.number().int(),
  etag: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Content = z.infer<typeof contentSchema>;

// Request schemas of the routes (routes.ts).

export const contentIdParams = z.strictObject({ content_id: z.uuid() });

/** The text fields of a multipart upload (`metadata` is a JSON object as a string). */
export const UPLOAD_FIELDS = ['title', 'type', 'course_id', 'metadata'] as const;

export const uploadFieldsSchema = z.strictObject({
  title: titleSchema,
  type: contentTypeSchema,
  course_id: z.uuid().optional(),
  metadata: z.string().optional(),
});

export interface UploadFields {
  title: string;
  type: ContentType;
  courseId: string | null;
  metadata: MetadataInput;
}

export const presignBody = z.strictObject({
  title: titleSchema,
  type: contentTypeSchema,
  course_id: z.uuid().optional(),
  metadata: metadataInputSchema.optional(),
  filename: z.string().trim().min(1).max(255),
  content_type: mediaTypeSchema,
  size: z.number().int().min(1).optional(),
});
export type PresignInput = z.infer<typeof presignBody>;

const nullableTags = z.array(z.string().trim().min(1).max(50)).max(50);

export const metadataBody = z
  .strictObject({
    content_id: z.uuid(),
    title: titleSchema.optional(),
    description: z.string().max(10_000).optional(),
    duration_minutes: z.number().int().min(0).max(100_000).nullable().optional(),
    difficulty_level: difficultySchema.nullable().optional(),
    tags: nullableTags.nullable().optional(),
    learning_objectives: z.array(z.string().trim().min(1).max(500)).max(50).nullable().optional(),
    prerequisites: z.array(z.uuid()).max(100).optional(),
    course_id: z.uuid().nullable().optional(),
    sequence_number: z.number().int().min(0).max(1_000_000).nullable().optional(),
  })
  .refine((b) => Object.keys(b).some((k) => k !== 'content_id'), { message: 'nothing to update' });
export type MetadataUpdate = z.infer<typeof metadataBody>;

export const searchQuery = z.strictObject({
  q: z.string().trim().max(500).optional(),
  type: contentTypeSchema.optional(),
  difficulty: difficultySchema.optional(),
  tags: z
    .union([z.string().max(1000), z.array(z.string().max(1000)).max(20)])
    .optional()
    .describe('Comma-separated (or repeated); items must carry all of them'),
  course_id: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(500).optional(),
});
export type SearchQuery = z.infer<typeof searchQuery>;

export const manifestItem = z.object({
  content_id: z.uuid(),
  title: z.string(),
  type: contentTypeSchema,
  version: z.number().int(),
  size_bytes: z.number().int().nullable(),
  sha256: z.string().nullable(),
  mime_type: z.string().nullable(),
  object_key: z.string().nullable(),
  updated_at: z.string(),
});

export const presignedUploadSchema = z.object({
  content_id: z.uuid(),
  upload_url: z.string(),
  method: z.literal('PUT'),
  expires_at: z.string(),
  object_key: z.string(),
});
export type PresignedUpload = z.infer<typeof presignedUploadSchema>;
