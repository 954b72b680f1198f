/**
 * ObjectStore.move, which puts a staged upload under the key its form's fields choose, on the driver
 * of the run: MinIO (S3 CopyObject, and UploadPartCopy in ranges for objects over the copy part
 * size, lowered here to S3's 5 MiB minimum so three parts are copied) or the filesystem store.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createS3ObjectStore, type ObjectStore } from '../../../services/kit/deps/object-store.ts';
import { EMBEDDED, embeddedStore, incompleteUploads } from '../support/drivers.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const COPY_PART_BYTES = 5 * 1024 * 1024;

async function read(store: ObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe(`ObjectStore.move (${EMBEDDED ? 'filesystem' : 'S3'})`, () => {
  let store: ObjectStore;

  beforeAll(async () => {
    const bucket = `t-${randomUUID().slice(0, 13)}`;
    if (EMBEDDED) store = embeddedStore(bucket, () => 'http://127.0.0.1');
    else {
      const minio = inject('minio');
      store = createS3ObjectStore({ ...minio, bucket, region: 'us-east-1', copyPartBytes: COPY_PART_BYTES });
    }
    await store.ensureBucket();
  });
  afterAll(async () => {
    for (const key of await store.list()) await store.remove(key);
  });

  it.each([
    ['a small object', 1000],
    ['an object larger than one copy part (copied in three ranges on S3)', 2 * COPY_PART_BYTES + 12345],
  ])('moves %s: same bytes, size and content type under the new key, nothing left under the old one', async (_what, size) => {
    const data = randomBytes(size);
    const from = `staging/${randomUUID()}`;
    const to = `content/documents/pdf/${randomUUID()}-moved.pdf`;
    await store.put(from, data, { contentType: 'application/pdf', size });
    const moved = await store.move(from, to);
    expect(moved.size).toBe(size);
    expect(await store.stat(to)).toMatchObject({ size, etag: moved.etag, contentType: 'application/pdf' });
    expect(await store.stat(from)).toBeNull();
    expect(sha256(await read(store, to))).toBe(sha256(data));
    expect(await store.list('staging/')).toEqual([]);
    expect(await incompleteUploads(store)).toEqual([]);
  });

  it('replaces what the target key held, and refuses to move a key that does not exist', async () => {
    const to = `content/${randomUUID()}`;
    await store.put(to, Buffer.from('old'), { contentType: 'text/plain' });
    const from = `staging/${randomUUID()}`;
    await store.put(from, Buffer.from('new bytes'), { contentType: 'text/plain' });
    await store.move(from, to);
    expect((await read(store, to)).toString()).toBe('new bytes');
    await expect(store.move(`staging/${randomUUID()}`, `content/${randomUUID()}`)).rejects.toThrow();
    expect(await store.list('staging/')).toEqual([]);
  });
});
