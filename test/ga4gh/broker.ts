import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Signer { key: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']; kid: string }

let issued = 0;

/**
 * A local GA4GH Passport broker and visa issuers on 127.0.0.1: serves the JWKS of the broker
 * (/broker/jwks), a data access committee (/dac/jwks) and a rogue issuer (/rogue/jwks),
 * counting fetches, and signs passports and visas, genuine or not, for the tests.
 */
export class LocalBroker {
  readonly fetches = new Map<string, number>();
  private server!: http.Server;
  base = '';
  private readonly keys = new Map<string, { signer: Signer; jwk: JWK }>();

  static async start(): Promise<LocalBroker> {
    const broker = new LocalBroker();
    for (const name of ['broker', 'dac', 'rogue', 'forger']) {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      broker.keys.set(name, { signer: { key: privateKey, kid: `${name}-key-1` }, jwk: { ...(await exportJWK(publicKey)), kid: `${name}-key-1`, alg: 'ES256', use: 'sig' } });
    }
    broker.server = http.createServer((req, res) => {
      const m = /^\/(\w+)\/jwks$/.exec(req.url ?? '');
      const entry = m && broker.keys.get(m[1]!);
      broker.fetches.set(req.url ?? '', (broker.fetches.get(req.url ?? '') ?? 0) + 1);
      if (!entry || m![1] === 'forger') { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [entry.jwk] }));
    });
    await new Promise<void>((r) => broker.server.listen(0, '127.0.0.1', () => r()));
    broker.base = `http://127.0.0.1:${(broker.server.address() as AddressInfo).port}`;
    return broker;
  }

  issuer(name: string): string { return `${this.base}/${name}`; }
  jku(name: string): string { return `${this.base}/${name}/jwks`; }

  /** The configuration that trusts this broker and its DAC (not the rogue issuer). */
  get config() {
    return {
      brokers: [{ issuer: this.issuer('broker'), jwksUrl: this.jku('broker') }],
      visaIssuers: [{ issuer: this.issuer('dac'), jku: this.jku('dac') }],
      clockToleranceSeconds: 0,
    };
  }

  /** A ControlledAccessGrants visa. `signedBy` defaults to the issuer's own key; `forger` makes a forgery. */
  async visa(o: { dataset: string; sub?: string; iss?: string; jku?: string; signedBy?: string; exp?: number; type?: string; conditions?: unknown }): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const signer = this.keys.get(o.signedBy ?? 'dac')!.signer;
    const kid = o.signedBy === 'forger' ? this.keys.get('dac')!.signer.kid : signer.kid;
    return new SignJWT({
      ga4gh_visa_v1: { type: o.type ?? 'ControlledAccessGrants', asserted: now - 86_400, value: o.dataset, source: 'https://ngdc.cncb.ac.cn/gsa-human/dac', by: 'dac', ...(o.conditions ? { conditions: o.conditions } : {}) },
    })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT', jku: o.jku ?? this.jku('dac') })
      .setIssuer(o.iss ?? this.issuer('dac')).setSubject(o.sub ?? 'researcher-77').setIssuedAt(now - 60).setExpirationTime(o.exp ?? now + 3600)
      .sign(signer.key);
  }

  /** A passport carrying `visas`, signed by the broker unless `signedBy` says otherwise. */
  async passport(visas: string[], o: { sub?: string; iss?: string; signedBy?: string; exp?: number; aud?: string | string[] } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const signer = this.keys.get(o.signedBy ?? 'broker')!.signer;
    const kid = o.signedBy === 'forger' ? this.keys.get('broker')!.signer.kid : signer.kid;
    return new SignJWT({ ga4gh_passport_v1: visas, name: 'Grace Hopper', ...(o.aud ? { aud: o.aud } : {}) })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'vnd.ga4gh.passport+jwt' })
      .setIssuer(o.iss ?? this.issuer('broker')).setSubject(o.sub ?? 'researcher-77').setIssuedAt(now - 60).setExpirationTime(o.exp ?? now + 3600)
      .setJti(`passport-${++issued}`)
      .sign(signer.key);
  }

  close(): Promise<void> { return new Promise((r) => this.server.close(() => r())); }
}
