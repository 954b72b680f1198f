/**
 * Access tokens (RFC 8725): the algorithm is pinned per deployment, and `iss`, `aud`, `exp` are
 * always checked. Both APIs verify with the same settings, so a Content Bridge token works on the
 * ML Server.
 */
import { createPrivateKey, createPublicKey, createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import jwt from 'jsonwebtoken';
import { ConfigError } from '../config.ts';
import { ROLES, type Role } from '../http/routes.ts';

export type TokenAlgorithm = 'HS256' | 'RS256' | 'ES256';

export interface TokenSettings {
  algorithm: TokenAlgorithm;
  /** Key objects built once: handing jsonwebtoken a string makes it re-parse the key on every call. */
  signingKey: KeyObject | undefined;
  verifyKey: KeyObject;
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
}

export interface AccessClaims {
  sub: string;
  username: string;
  roles: Role[];
  jti: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
}

export class TokenError extends Error {}

/** Builds settings from config: HS256 with JWT_SECRET, or RS256/ES256 from a PEM key pair. */
export function tokenSettingsFromConfig(config: {
  JWT_SECRET?: string | undefined;
  JWT_PRIVATE_KEY_FILE?: string | undefined;
  JWT_PUBLIC_KEY_FILE?: string | undefined;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
  JWT_ACCESS_TTL_SECONDS: number;
}): TokenSettings {
  const common = { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, accessTtlSeconds: config.JWT_ACCESS_TTL_SECONDS };
  if (config.JWT_PUBLIC_KEY_FILE) {
    const verifyKey = createPublicKey(readFileSync(config.JWT_PUBLIC_KEY_FILE));
    const signingKey = config.JWT_PRIVATE_KEY_FILE ? createPrivateKey(readFileSync(config.JWT_PRIVATE_KEY_FILE)) : undefined;
    // The key type pins the algorithm: an EC key can only ever verify ES256, an RSA key RS256.
    const algorithm: TokenAlgorithm = verifyKey.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
    return { ...common, algorithm, signingKey, verifyKey };
  }
  if (config.JWT_SECRET) {
    if (Buffer.byteLength(config.JWT_SECRET) < 32) throw new ConfigError('invalid configuration: JWT_SECRET must be at least 32 bytes');
    const key = createSecretKey(Buffer.from(config.JWT_SECRET, 'utf8'));
    return { ...common, algorithm: 'HS256', signingKey: key, verifyKey: key };
  }
  throw new ConfigError('invalid configuration: JWT_SECRET (or JWT_PUBLIC_KEY_FILE) is required');
}

export function signAccessToken(settings: TokenSettings, subject: { userId: string; username: string; roles: Role[] }) {
  if (!settings.signingKey) throw new TokenError('this service only verifies tokens');
  const jti = randomUUID();
  const token = jwt.sign({ username: subject.username, roles: subject.roles }, settings.signingKey, {
    algorithm: settings.algorithm,
    subject: subject.userId,
    issuer: settings.issuer,
    audience: settings.audience,
    expiresIn: settings.accessTtlSeconds,
    jwtid: jti,
  });
  const exp = Math.floor(Date.now() / 1000) + settings.accessTtlSeconds;
  return { token, jti, exp };
}

/** Verifies signature, algorithm, issuer, audience and expiry; throws TokenError with a safe reason. */
export function verifyAccessToken(settings: TokenSettings, token: string): AccessClaims {
  let payload: jwt.JwtPayload | string;
  try {
    payload = jwt.verify(token, settings.verifyKey, {
      algorithms: [settings.algorithm],
      issuer: settings.issuer,
      audience: settings.audience,
      clockTolerance: 5,
    });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TokenExpiredError') throw new TokenError('token expired');
    throw new TokenError(`invalid token: ${(err as Error).message}`);
  }
  if (typeof payload === 'string' || !payload.sub || !payload.jti || !payload.exp) throw new TokenError('invalid token: missing claims');
  const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is Role => (ROLES as readonly string[]).includes(r)) : [];
  return {
    sub: payload.sub,
    username: String(payload.username ?? ''),
    roles,
    jti: payload.jti,
    iat: payload.iat ?? 0,
    exp: payload.exp,
    iss: String(payload.iss),
    aud: String(payload.aud),
  };
}

/**
 * Verification with a small cache of tokens already verified: the same token is presented on every
 * request of a session, and its signature cannot change. Expiry is still checked on every call;
 * revocation is the caller's business (it is not a property of the token).
 */
export function cachedVerifier(settings: TokenSettings, maxEntries = 10_000) {
  // Keyed by the signature, compared in full on a hit: hashing the whole token (300-odd characters,
  // a new string on every request) for the lookup cost more than the rest of a cached verification.
  const verified = new Map<string, { token: string; claims: AccessClaims }>();
  const verify = (token: string): AccessClaims => {
    const key = token.slice(token.lastIndexOf('.') + 1);
    const hit = verified.get(key);
    if (hit && hit.token === token) {
      if (hit.claims.exp * 1000 > Date.now() - 5000) return hit.claims;
      verified.delete(key);
      throw new TokenError('token expired');
    }
    const claims = verifyAccessToken(settings, token);
    if (verified.size >= maxEntries) verified.delete(verified.keys().next().value!);
    verified.set(key, { token, claims });
    return claims;
  };
  return Object.assign(verify, { size: () => verified.size });
}
