import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type CryptoKey } from 'jose';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { Role } from './Principal.js';

const ALG = 'ES256';

interface StoredKey { kid: string; privateJwk: JWK; publicJwk: JWK }

/**
 * The embedded OIDC-style issuer: one signing key kept in the data directory, so tokens made
 * by `npm run token` verify against the server that shares that directory.
 */
export class LocalIssuer {
  private constructor(private readonly config: Config, private readonly key: StoredKey, private readonly signingKey: CryptoKey | Uint8Array) {}

  static async open(config: Config): Promise<LocalIssuer> {
    const file = path.join(config.keysDir, 'issuer-key.json');
    let stored: StoredKey;
    if (fs.existsSync(file)) {
      stored = JSON.parse(fs.readFileSync(file, 'utf8'));
    } else {
      const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
      const kid = crypto.randomUUID();
      stored = {
        kid,
        privateJwk: { ...(await exportJWK(privateKey)), kid, alg: ALG },
        publicJwk: { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' },
      };
      fs.mkdirSync(config.keysDir, { recursive: true, mode: 0o700 });
      // wx: two processes starting on a fresh directory must not overwrite each other's key.
      try {
        fs.writeFileSync(file, JSON.stringify(stored), { mode: 0o600, flag: 'wx' });
      } catch (err: any) {
        if (err.code !== 'EEXIST') throw err;
        stored = JSON.parse(fs.readFileSync(file, 'utf8'));
      }
    }
    return new LocalIssuer(config, stored, await importJWK(stored.privateJwk, ALG));
  }

  get jwks(): { keys: JWK[] } {
    return { keys: [this.key.publicJwk] };
  }

  async issue(claims: { sub: string; roles: Role[]; name?: string; email?: string; institution?: string }, ttlSeconds = 12 * 3600): Promise<string> {
    const { sub, ...rest } = claims;
    return new SignJWT(rest)
      .setProtectedHeader({ alg: ALG, kid: this.key.kid, typ: 'JWT' })
      .setSubject(sub)
      .setIssuer(this.config.oidc.issuer)
      .setAudience(this.config.oidc.audience)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(this.signingKey);
  }
}
