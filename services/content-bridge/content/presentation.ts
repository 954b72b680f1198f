/**
 * A content document as clients see it: its object keys become short-lived presigned URLs. The JSON
 * of a hot item is kept while its URLs stay the same, so a cached read skips building it again.
 */
import type { ObjectStore } from '../../kit/deps/object-store.ts';
import type { Content, ContentDoc } from './model.ts';

type Urls = Pick<Content, 'content_url' | 'thumbnail_url'>;

export function contentPresentation(store: ObjectStore, ttlSeconds: number) {
  /** The document's object keys as short-lived presigned URLs. */
  async function presignedUrls(doc: ContentDoc): Promise<Urls> {
    return {
      content_url: doc.object_key ? await store.presignedGetUrl(doc.object_key, ttlSeconds) : '',
      thumbnail_url: doc.thumbnail_key ? await store.presignedGetUrl(doc.thumbnail_key, ttlSeconds) : null,
    };
  }

  /**
   * The last answer of each document, kept while its presigned URLs are the same (the store reuses
   * a URL for half its lifetime). Keyed weakly by the document object, which only the content
   * cache's memory window keeps alive.
   */
  const presented = new WeakMap<ContentDoc, { urls: Urls; json: string }>();

  return {
    async present(doc: ContentDoc): Promise<Content> {
      const { thumbnail_key: _thumbnailKey, ...rest } = doc;
      return { ...rest, ...(await presignedUrls(doc)) };
    },

    /** `present` as JSON text. */
    async presentJson(doc: ContentDoc): Promise<string> {
      const urls = await presignedUrls(doc);
      const last = presented.get(doc);
      if (last && last.urls.content_url === urls.content_url && last.urls.thumbnail_url === urls.thumbnail_url) return last.json;
      const { thumbnail_key: _thumbnailKey, ...rest } = doc;
      const json = JSON.stringify({ ...rest, ...urls } satisfies Content);
      presented.set(doc, { urls, json });
      return json;
    },
  };
}
