/**
 * Conditional requests (RFC 9110 section 13) on version tags: an entity's ETag is `"v<version>"`.
 * If-Match uses the strong comparison, If-None-Match the weak one.
 */

/** The ETag of an entity at `version`. */
export const versionTag = (version: number) => `"v${version}"`;

/** The versions an If-Match header accepts: undefined for none/`*` (any), [] when nothing can match. */
export function parseIfMatch(header: string | undefined): number[] | undefined {
  if (header === undefined || header.trim() === '' || header.trim() === '*') return undefined;
  const versions: number[] = [];
  for (const part of header.split(',')) {
    // Strong comparison (RFC 9110 13.1.1): a weak tag never matches.
    const match = /^"v(\d{1,9})"$/.exec(part.trim());
    if (match) versions.push(Number(match[1]));
  }
  return versions;
}

/** True when an If-None-Match header matches `etag` (weak comparison, RFC 9110 13.1.2). */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === opaque);
}
