/**
 * Debian root file systems for the stand-in base images, made by mmdebstrap from this machine's own
 * apt sources: the only way to a base image here, since no image registry is ever contacted.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from '../paths.ts';
import { log, run } from '../shell.ts';

export interface DebianSources {
  /** The Debian archive, e.g. http://deb.debian.org/debian. */
  archive: string;
  /** The security archive. */
  security: string;
}

/** Reads the archive URIs from the machine's apt sources (deb822 `.sources` and one-line `.list` files). */
export function debianSources(): DebianSources {
  const files = ['/etc/apt/sources.list'].concat(
    existsSync('/etc/apt/sources.list.d') ? readdirSync('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f)) : [],
  );
  const uris: string[] = [];
  for (const file of files.filter((f) => existsSync(f) && /\.(list|sources)$|sources\.list$/.test(f))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^URIs:\s*(.+)$/gm)) uris.push(...m[1]!.trim().split(/\s+/));
    for (const m of text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)) uris.push(m[1]!);
  }
  const security = uris.find((u) => /debian-security\/?$/.test(u));
  const archive = uris.find((u) => /\/debian\/?$/.test(u));
  if (!archive || !security) throw new Error(`no Debian archive and security archive in the apt sources (${files.join(', ')})`);
  return { archive: archive.replace(/\/$/, ''), security: security.replace(/\/$/, '') };
}

export interface RootfsRequest {
  name: string;
  suite: string;
  packages: string[];
  sources: DebianSources;
  /** Users created before the packages install, so they keep the uid/gid the official images use. */
  systemUsers?: Array<[name: string, uid: number, gid: number]>;
}

/** Returns the path of a tarball of the root file system, built once per distinct request. */
export async function mmdebstrap(req: RootfsRequest): Promise<string> {
  const key = createHash('sha256').update(JSON.stringify(req)).digest('hex').slice(0, 12);
  const dir = join(cacheRoot(), 'node-images', 'rootfs');
  const out = join(dir, `${req.name}-${key}.tar`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  log(`mmdebstrap ${req.suite} (${req.packages.join(', ')}) ...`);
  const { archive, security } = req.sources;
  const hooks = (req.systemUsers ?? []).map(
    ([name, uid, gid]) =>
      `--essential-hook=echo '${name}:x:${uid}:${gid}::/var/lib/${name}:/bin/bash' >> "$1/etc/passwd" && echo '${name}:x:${gid}:' >> "$1/etc/group"`,
  );
  const tmp = `${out}.tmp`;
  rmSync(tmp, { force: true });
  await run(`mmdebstrap ${req.name}`, 'mmdebstrap', [
    '--quiet',
    '--variant=minbase',
    `--include=${req.packages.join(',')}`,
    // Documentation is dead weight in an image.
    '--dpkgopt=path-exclude=/usr/share/doc/*',
    '--dpkgopt=path-exclude=/usr/share/man/*',
    '--dpkgopt=path-exclude=/usr/share/info/*',
    ...hooks,
    '--format=tar',
    req.suite,
    tmp,
    `deb ${archive} ${req.suite} main`,
    `deb ${archive} ${req.suite}-updates main`,
    `deb ${security} ${req.suite}-security main`,
  ]);
  renameSync(tmp, out);
  log(`mmdebstrap ${req.name} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return out;
}
