/** Generated Secrets outlive a platform whose volumes are retained, and its successor adopts them. */
import { describe, expect, it } from 'vitest';
import { adoptable, releasedOwnerReferences } from '../../../operator/reconcile/secret-ownership.ts';
import { generatedSecrets, ownerReference } from '../../../operator/specs/index.ts';
import type { KubeObject } from '../../../operator/kube/client.ts';
import { platform, seededRandom } from '../operator-specs/fixtures.ts';

const first = platform({});
const successor = { ...platform({}), metadata: { ...platform({}).metadata, uid: 'uid-of-the-new-one' } };
const secret = (ownerReferences?: KubeObject['metadata']['ownerReferences']): KubeObject => {
  const s = generatedSecrets(first, seededRandom())[0] as unknown as KubeObject;
  return { ...s, metadata: { ...s.metadata, ownerReferences } };
};

describe('releasedOwnerReferences', () => {
  it("drops the platform's reference (and keeps anyone else's); nothing to do for a Secret it does not own", () => {
    const other = { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'other' };
    expect(releasedOwnerReferences(secret([ownerReference(first) as never, other]), first)).toEqual([other]);
    expect(releasedOwnerReferences(secret([ownerReference(first) as never]), first)).toEqual([]);
    expect(releasedOwnerReferences(secret([other]), first)).toBeUndefined();
  });
});

describe('adoptable', () => {
  it('a released generated Secret of a platform with the same name is adopted', () => {
    expect(adoptable(secret(undefined), successor)).toBe(true);
    expect(adoptable(secret([]), successor)).toBe(true);
  });

  it("never takes a Secret another controller owns, another platform's, or one the user made", () => {
    expect(adoptable(secret([ownerReference(first) as never]), successor)).toBe(false);
    const other = { ...successor, metadata: { ...successor.metadata, name: 'other' } };
    expect(adoptable(secret(undefined), other)).toBe(false);
    const s = secret(undefined);
    expect(adoptable({ ...s, metadata: { ...s.metadata, annotations: {} } }, successor)).toBe(false);
  });
});
