import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** 'version': a released collection version (`OBIA0001.v2`), served from its manifest (issue 19). */
export type TargetKind = 'collection' | 'study' | 'series' | 'version';

/** What a download link grants: one user, one target, one format, until `exp` (Unix seconds). */
export interface LinkClaims {
  sub: string;
  kind: TargetKind;
  /** Collection or study accession, SeriesInstanceUID, or collection version (OBIA0001.v2). */
  id: string;
  format: 'DICOM_ZIP';
  exp: number;
}

export class LinkError extends Error {}

/**
 * HMAC-SHA256-signed download tokens. The secret lives beside the issuer key in `keysDir`,
 * created once with O_EXCL so processes sharing the directory agree on it.
 */
export class LinkSigner {
  private constructor(private readonly secret: Buffer) {}

  static open(keysDir: string): LinkSigner {
    const file = path.join(keysDir, 'download-link-secret');
    if (!fs.existsSync(file)) {
      fs.mkdirSync(keysDir, { recursive: true, mode: 0o700 });
      try {
        fs.writeFileSync(file, crypto.randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
      } catch (err: any) {
        if (err.code !== 'EEXIST') throw err;
      }
    }
    return new LinkSigner(Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64'));
  }

  private mac(body: string): Buffer {
    return crypto.createHmac('sha256', this.secret).update(body).digest();
  }

  sign(claims: LinkClaims): string {
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${body}.${this.mac(body).toString('base64url')}`;
  }

  /** The claims of a genuine, unexpired token; throws LinkError otherwise. */
  verify(token: string, now = Date.now()): LinkClaims {
    const [body, sig, extra] = token.split('.');
    if (!body || !sig || extra !== undefined) throw new LinkError('malformed link');
    const given = Buffer.from(sig, 'base64url');
    const expected = this.mac(body);
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) throw new LinkError('bad signature');
    let claims: LinkClaims;
    try { claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')); } catch { throw new LinkError('malformed link'); }
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now) throw new LinkError('link expired');
    return claims;
  }
}
