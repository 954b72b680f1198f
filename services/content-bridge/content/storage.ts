/**
 * Where content lives in the object store: one prefix per content type (and per course for videos):
 *
 *   content/videos/<course_id|uncategorised>/<content_id>-<file>      videos and their captions
 *   content/documents/pdf/<content_id>-<file>                          PDF documents
 *   content/documents/files/<content_id>-<file>                        text and image documents
 *   content/documents/interactive/<content_id>-<file>                  interactive packages
 *   content/assessments/quizzes/<content_id>-<file>                    JSON and PDF assessments
 *   content/assessments/simulations/<content_id>-<file>                packaged (ZIP) simulations
 *
 * A streamed upload whose file part comes before the fields that choose its folder waits under
 * `staging/content/<content_id>` until the form has ended, and is then moved into place (or removed).
 * Only a process that dies mid-upload leaves one there; a bucket lifecycle rule on `staging/` (a day,
 * say) clears those, as `AbortIncompleteMultipartUpload` does for interrupted multipart uploads.
 *
 * Keys are built only from server-generated ids and a sanitised file name, so a client-supplied name
 * can never climb out of its folder (`../`), smuggle separators or control characters.
 */
import type { ContentType, MediaType } from './sniff.ts';

const EXTENSIONS: Record<MediaType, string> = {
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/webm': 'webm',
  'text/vtt': 'vtt',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'application/zip': 'zip',
  'application/json': 'json',
};

/** A file name safe inside an object key: the last path segment, ASCII letters, digits, `.`, `_`, `-`. */
export function safeFilename(name: string | undefined, media: MediaType): string {
  const last = (name ?? '').split(/[/\\]/).pop() ?? '';
  let safe = last
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // strip accents left by NFKD
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/-?\.-?/g, '.')
    .replace(/\.{2,}/g, '.')
    .replace(/^[-.]+/, '')
    .replace(/[-.]+$/, '');
  if (safe.length > 100) safe = safe.slice(safe.length - 100).replace(/^[-.]+/, '');
  if (!safe) safe = 'file';
  if (!/\.[A-Za-z0-9]{1,8}$/.test(safe)) safe = `${safe}.${EXTENSIONS[media]}`;
  return safe;
}

function folder(type: ContentType, media: MediaType, courseId: string | null): string {
  switch (type) {
    case 'video':
      return `content/videos/${courseId ?? 'uncategorised'}`;
    case 'document':
      return media === 'application/pdf' ? 'content/documents/pdf' : 'content/documents/files';
    case 'interactive':
      return 'content/documents/interactive';
    case 'assessment':
      return media === 'application/zip' ? 'content/assessments/simulations' : 'content/assessments/quizzes';
  }
}

export function objectKey(opts: {
  type: ContentType;
  media: MediaType;
  courseId: string | null;
  contentId: string;
  filename: string | undefined;
}): string {
  return `${folder(opts.type, opts.media, opts.courseId)}/${opts.contentId}-${safeFilename(opts.filename, opts.media)}`;
}

/** Where a streamed upload waits for the fields that choose its key (see the layout above). */
export function stagingKey(contentId: string): string {
  return `staging/content/${contentId}`;
}
