/**
 * Content sniffing: the media type comes from the file's first bytes (magic numbers), never from the
 * client's Content-Type or filename, and each content `type` accepts only an allow list of media types.
 *
 * Allow list (decided here, see the report):
 * - video: MP4/ISO-BMFF (`ftyp`, not image or audio brands), QuickTime, WebM/Matroska (EBML), and
 *   WebVTT captions (the storage layout keeps transcripts next to their videos).
 * - document: PDF, plain UTF-8 text, PNG and JPEG (diagrams, printed guides).
 * - interactive: ZIP packages (HTML5/SCORM bundles) and JSON definitions.
 * - assessment: JSON quiz definitions, ZIP packages (simulations) and PDF (printable tests).
 * Markup (HTML, SVG, XML) is refused everywhere: it would be served verbatim from the object store's
 * origin through presigned URLs, i.e. stored cross-site scripting.
 */
export const CONTENT_TYPES = ['video', 'document', 'interactive', 'assessment'] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

export const MEDIA_TYPES = [
  'video/mp4',
  'video/quicktime',
  'video/webm',
  'text/vtt',
  'application/pdf',
  'text/plain',
  'image/png',
  'image/jpeg',
  'application/zip',
  'application/json',
] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

export const ALLOWED_MEDIA: Record<ContentType, readonly MediaType[]> = {
  video: ['video/mp4', 'video/quicktime', 'video/webm', 'text/vtt'],
  document: ['application/pdf', 'text/plain', 'image/png', 'image/jpeg'],
  interactive: ['application/zip', 'application/json'],
  assessment: ['application/json', 'application/zip', 'application/pdf'],
};

/** How many leading bytes the sniffer wants (it decides on fewer when the file is shorter). */
export const SNIFF_BYTES = 512;

const startsWith = (buf: Buffer, bytes: number[], offset = 0) =>
  buf.length >= offset + bytes.length && bytes.every((b, i) => buf[offset + i] === b);
const ascii = (buf: Buffer, start: number, end: number) => buf.subarray(start, end).toString('latin1');

const IMAGE_OR_AUDIO_BRANDS = new Set([
  'avif',
  'avis',
  'heic',
  'heix',
  'hevc',
  'heim',
  'heis',
  'mif1',
  'msf1',
  'M4A ',
  'M4B ',
  'M4P ',
  'F4A ',
  'F4B ',
  'crx ',
]);

/** Decodes `head` as UTF-8 text, tolerating a multi-byte sequence cut off by the sniff window. */
function asText(head: Buffer, complete: boolean): string | undefined {
  let end = head.length;
  if (!complete) {
    // Drop up to 3 trailing bytes of a sequence the window cut in half.
    for (let back = 1; back <= Math.min(3, head.length); back++) {
      const byte = head[head.length - back]!;
      if ((byte & 0xc0) === 0xc0) {
        end = head.length - back;
        break;
      }
      if ((byte & 0x80) === 0) break;
    }
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, end));
  } catch {
    return undefined;
  }
  // Control characters other than tab, LF, FF and CR mean binary data.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d) || c === 0x7f) return undefined;
  }
  return text;
}

/**
 * The media type of a file from its first bytes, or undefined when it is not one we recognise.
 * `complete` tells whether `head` is the whole file (short files).
 */
export function sniff(head: Buffer, complete: boolean): MediaType | 'text/html' | undefined {
  if (head.length === 0) return undefined;
  if (startsWith(head, [0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf'; // %PDF-
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) return 'video/webm'; // EBML: WebM and Matroska
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || (complete && startsWith(head, [0x50, 0x4b, 0x05, 0x06]))) return 'application/zip';
  if (head.length >= 12 && ascii(head, 4, 8) === 'ftyp') {
    const brand = ascii(head, 8, 12);
    if (IMAGE_OR_AUDIO_BRANDS.has(brand)) return undefined;
    return brand === 'qt  ' ? 'video/quicktime' : 'video/mp4';
  }
  const text = asText(head, complete);
  if (text === undefined) return undefined;
  const body = text.replace(/^\uFEFF/, '');
  if (/^WEBVTT(?:[ \t\r\n]|$)/.test(body)) return 'text/vtt';
  const trimmed = body.trimStart();
  if (trimmed.startsWith('<')) return 'text/html'; // HTML, SVG, XML: recognised so that it is refused
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return 'application/json';
  if (trimmed.length === 0) return undefined;
  return 'text/plain';
}

export function isAllowed(type: ContentType, media: string | undefined): media is MediaType {
  return media !== undefined && (ALLOWED_MEDIA[type] as readonly string[]).includes(media);
}
