/**
 * The Secrets phase: the generated Secrets exist (created once, never rewritten), and every Secret
 * key the platform references is read, for the hash that rolls the pods and the list of missing ones.
 */
import { isConflict, isNotFound } from '../kube/errors.ts';
import { RESOURCES } from '../kube/resources.ts';
import {
  configHash,
  generatedSecretNames,
  generatedSecrets,
  ownerReference,
  referencedSecretKeys,
  type HuntMasterPlatform,
  type SecretObject,
} from '../specs/index.ts';
import type { Phase } from './deps.ts';
import { adoptable } from './secret-ownership.ts';

export interface ReferencedSecrets {
  /** The hash of every referenced key's value. */
  hash: string;
  missing: { name: string; key?: string }[];
}

/**
 * One left behind by a deleted platform of the same name (deletionPolicy Retain kept it with the
 * volumes, whose data directories hold its passwords) is adopted, not replaced.
 */
async function adoptRetainedSecrets(p: Phase, cr: HuntMasterPlatform): Promise<void> {
  const namespace = cr.metadata.namespace;
  for (const name of generatedSecretNames(cr)) {
    const existing = p.cache.get('Secret', namespace, name);
    if (!existing || !adoptable(existing, cr)) continue;
    await p.client.mergePatch(RESOURCES.Secret, namespace, name, { metadata: { ownerReferences: [ownerReference(cr)] } });
    p.wrote('patch', { ...existing, kind: 'Secret' });
    await p.record(cr, 'Normal', 'SecretAdopted', `Adopted the retained Secret ${name}`);
  }
}

/**
 * Creates the generated Secrets the cache does not hold, all at once. An AlreadyExists answer (the
 * cache lagging a create of a moment ago) keeps the Secret that is there. Returns the Secrets this
 * pass created, so their keys can be read before the cache has them.
 */
export async function ensureGeneratedSecrets(p: Phase, cr: HuntMasterPlatform): Promise<Map<string, SecretObject>> {
  await adoptRetainedSecrets(p, cr);
  const namespace = cr.metadata.namespace;
  const created = new Map<string, SecretObject>();
  const missing = new Set(generatedSecretNames(cr).filter((name) => !p.cache.get('Secret', namespace, name)));
  if (missing.size === 0) return created;
  const wanted = generatedSecrets(cr).filter((secret) => missing.has(secret.metadata.name));
  await Promise.all(
    wanted.map(async (secret) => {
      try {
        created.set(secret.metadata.name, await p.client.create<SecretObject>(secret));
      } catch (err) {
        if (!isConflict(err)) throw err;
        return;
      }
      p.wrote('create', secret);
      await p.record(cr, 'Normal', 'SecretGenerated', `Generated Secret ${secret.metadata.name}`);
    }),
  );
  return created;
}

/**
 * A Secret's data: created this pass, or from the cache for the generated ones (the only Secrets it
 * holds), otherwise by name from the API server, so a user's Secret is read only when a platform needs it.
 */
async function readSecret(p: Phase, namespace: string, name: string, fresh: Map<string, SecretObject>) {
  const known = fresh.get(name) ?? p.cache.get('Secret', namespace, name);
  if (known) return known;
  try {
    return await p.client.get<SecretObject>(RESOURCES.Secret, namespace, name);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Reads every referenced Secret key: their hash rolls the pods; missing ones are reported. */
export async function readReferencedSecrets(
  p: Phase,
  cr: HuntMasterPlatform,
  fresh: Map<string, SecretObject>,
): Promise<ReferencedSecrets> {
  const namespace = cr.metadata.namespace;
  const data: Record<string, Record<string, string> | undefined> = {};
  const missing: { name: string; key?: string }[] = [];
  const generated = new Set(generatedSecretNames(cr));
  const refs = referencedSecretKeys(cr);
  const names = [...new Set(refs.map((ref) => ref.name))];
  const read = await Promise.all(names.map((name) => readSecret(p, namespace, name, fresh)));
  const secrets = new Map(names.map((name, i) => [name, read[i]]));
  for (const ref of refs) {
    const secret = secrets.get(ref.name);
    if (!secret) {
      // A generated Secret created a moment ago by another pass may not be cached yet; it is not "missing".
      if (!generated.has(ref.name) && !ref.optional) missing.push({ name: ref.name });
      continue;
    }
    if (secret.data?.[ref.key] === undefined) {
      if (!ref.optional) missing.push({ name: ref.name, key: ref.key });
      continue;
    }
    (data[ref.name] ??= {})[ref.key] = secret.data[ref.key]!;
  }
  return { hash: configHash(data), missing };
}
