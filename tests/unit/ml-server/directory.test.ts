import { describe, expect, it } from 'vitest';
import { ModelDirectory } from '../../../services/ml-server/serving/directory.ts';
import type { ServingModel } from '../../../services/ml-server/registry/repository.ts';

const model = (latest: number): ServingModel => ({
  id: 'id',
  name: 'm',
  task: 'regression',
  format: 'linear',
  aliases: {},
  latest,
  versions: new Map(),
});

describe('ModelDirectory', () => {
  it('reuses metadata within the TTL, reads again after it or after invalidate', async () => {
    let now = 0;
    let reads = 0;
    const dir = new ModelDirectory({ servingModel: async () => model(++reads) }, 1000, () => now);
    expect((await dir.get('m'))!.latest).toBe(1);
    expect((await dir.get('m'))!.latest).toBe(1);
    now = 1001;
    expect((await dir.get('m'))!.latest).toBe(2);
    dir.invalidate('m');
    expect((await dir.get('m'))!.latest).toBe(3);
  });

  it('caches unknown models and shares concurrent reads', async () => {
    let reads = 0;
    const dir = new ModelDirectory(
      {
        servingModel: async () => {
          reads++;
          return null;
        },
      },
      1000,
    );
    expect(await Promise.all([dir.get('x'), dir.get('x'), dir.get('x')])).toEqual([null, null, null]);
    expect(await dir.get('x')).toBeNull();
    expect(reads).toBe(1);
  });

  it('does not let a read started before an invalidation repopulate the cache', async () => {
    let release!: () => void;
    let reads = 0;
    const dir = new ModelDirectory(
      {
        servingModel: async () => {
          reads++;
          if (reads === 1) await new Promise<void>((r) => (release = r));
          return model(reads);
        },
      },
      60_000,
    );
    const stale = dir.get('m');
    await Promise.resolve();
    dir.invalidate('m');
    release();
    expect((await stale)!.latest).toBe(1);
    expect((await dir.get('m'))!.latest).toBe(2);
  });
});
