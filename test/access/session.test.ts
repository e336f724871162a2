import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Role, type Principal } from '../../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { Action, decide, decideWork, refusal, type CollectionFacts } from '../../src/access/policy.js';
import { startTestApp, type TestApp } from '../support/app.js';

const person = (id: string, ...roles: Role[]): Principal => ({ id, name: null, email: null, institution: null, roles });
const anonymous = null;
const owner = person('olga', Role.SUBMITTER);
const researcher = person('rita', Role.RESEARCHER);
const submitter = person('sid', Role.SUBMITTER);
const curator = person('cora', Role.CURATOR);
const admin = person('ada', Role.ADMIN);

function facts(accessibility: Accessibility, releaseState: ReleaseState, extra: Partial<CollectionFacts> = {}): CollectionFacts {
  return { collection: { id: 1, accession: 'OBIA0001', submitter: owner.id, accessibility, releaseState }, delegate: false, approved: false, pending: false, ...extra };
}
const openReleased = facts(Accessibility.OPEN, ReleaseState.RELEASED);
const controlled = facts(Accessibility.CONTROLLED, ReleaseState.RELEASED);
const draft = facts(Accessibility.OPEN, ReleaseState.DRAFT);
const theirSubmission = { id: 7, submitter: owner.id };

/** Who may, and who may not, for one action of the session's table. */
function table(action: Action, decideFor: (user: Principal | null) => boolean, expected: Record<string, boolean>) {
  const callers: Record<string, Principal | null> = { anonymous, owner, researcher, submitter, curator, admin };
  for (const [name, allowed] of Object.entries(expected)) {
    assert.equal(decideFor(callers[name]!), allowed, `${action} by ${name}`);
  }
}

describe('the authorization session: one test per action of its table', () => {
  it('browse: released metadata for everyone; drafts for their submitter and curators', () => {
    table(Action.BROWSE, (u) => decide(u, Action.BROWSE, controlled).allow, { anonymous: true, researcher: true, curator: true });
    table(Action.BROWSE, (u) => decide(u, Action.BROWSE, draft).allow, { anonymous: false, researcher: false, owner: true, curator: true, admin: true });
  });

  it('view pixels: open collections publicly, controlled ones like their files', () => {
    table(Action.VIEW_THUMBNAIL, (u) => decide(u, Action.VIEW_THUMBNAIL, openReleased).allow, { anonymous: true, researcher: true });
    table(Action.VIEW_THUMBNAIL, (u) => decide(u, Action.VIEW_THUMBNAIL, controlled).allow, { anonymous: false, researcher: false, owner: true, curator: true });
    assert.equal(decide(researcher, Action.VIEW_THUMBNAIL, { ...controlled, approved: true }).allow, true);
  });

  it('download (and making a download link): signed in, and for controlled data an approval', () => {
    for (const action of [Action.DOWNLOAD, Action.CREATE_DOWNLOAD_LINK]) {
      table(action, (u) => decide(u, action, openReleased).allow, { anonymous: false, researcher: true });
      table(action, (u) => decide(u, action, controlled).allow, { anonymous: false, researcher: false, owner: true, curator: true, admin: true });
      assert.equal(decide(researcher, action, { ...controlled, approved: true }).allow, true);
    }
  });

  it('request access: signed-in researchers, controlled released collections, one pending at a time', () => {
    table(Action.REQUEST_ACCESS, (u) => decide(u, Action.REQUEST_ACCESS, controlled).allow, { anonymous: false, researcher: true, owner: false, curator: false });
    assert.equal(decide(researcher, Action.REQUEST_ACCESS, openReleased).allow, false);
    assert.equal(decide(researcher, Action.REQUEST_ACCESS, { ...controlled, pending: true }).allow, false);
  });

  it('review access: the owner, their delegates and admins', () => {
    table(Action.REVIEW_REQUESTS, (u) => decide(u, Action.REVIEW_REQUESTS, controlled).allow, { anonymous: false, researcher: false, owner: true, curator: false, admin: true });
    assert.equal(decide(researcher, Action.REVIEW_REQUESTS, { ...controlled, delegate: true }).allow, true);
  });

  it('audit: the owner, their delegates and admins read a collection\'s audit log', () => {
    table(Action.VIEW_AUDIT_LOG, (u) => decide(u, Action.VIEW_AUDIT_LOG, controlled).allow, { anonymous: false, researcher: false, owner: true, admin: true });
  });

  it('manage delegates: the submitter and admins, not delegates', () => {
    table(Action.MANAGE_DELEGATES, (u) => decide(u, Action.MANAGE_DELEGATES, controlled).allow, { anonymous: false, owner: true, admin: true, curator: false });
    assert.equal(decide(researcher, Action.MANAGE_DELEGATES, { ...controlled, delegate: true }).allow, false);
  });

  it('submit: submitters, curators and admins', () => {
    table(Action.SUBMIT, (u) => decideWork(u, Action.SUBMIT).allow, { anonymous: false, researcher: false, submitter: true, curator: true, admin: true });
  });

  it('see a submission, upload to it, process it, resolve its quarantined files: its submitter and curators', () => {
    for (const action of [Action.VIEW_SUBMISSION, Action.UPLOAD, Action.PROCESS, Action.RESOLVE_QUARANTINE]) {
      table(action, (u) => decideWork(u, action, theirSubmission).allow, { anonymous: false, researcher: false, submitter: false, owner: true, curator: true, admin: true });
      assert.equal(decideWork(curator, action, null).allow, false, `${action} on no submission`);
    }
  });

  it('curate, discard received files and release: curators and admins', () => {
    for (const action of [Action.CURATE, Action.DISCARD_STAGED, Action.RELEASE]) {
      table(action, (u) => decideWork(u, action).allow, { anonymous: false, researcher: false, submitter: false, owner: false, curator: true, admin: true });
    }
  });

  it('refuses by one rule: UNAUTHENTICATED anonymous, FORBIDDEN signed in, one message for absent, hidden and forbidden', () => {
    assert.equal(refusal(null, Action.UPLOAD, 'submission 7').extensions.code, 'UNAUTHENTICATED');
    assert.equal(refusal(submitter, Action.UPLOAD, 'submission 7').extensions.code, 'FORBIDDEN');
    assert.equal(refusal(submitter, Action.UPLOAD, 'submission 7').message, refusal(submitter, Action.UPLOAD, 'submission 7').message);
    // A collection action asked about a submission, or the other way round, is denied, never allowed by accident.
    assert.equal(decide(admin, Action.SUBMIT, openReleased).allow, false);
    assert.equal(decideWork(admin, Action.DOWNLOAD).allow, false);
  });
});

describe('the same unauthenticated and forbidden answers on every route', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp({ seedScale: 0.002 }); });
  after(async () => { await app?.stop(); });

  const routes = (uid: string) => [
    { method: 'GET', path: `/thumbnails/${uid}.png` },
    { method: 'GET', path: `/previews/${uid}.png` },
    { method: 'GET', path: '/files/abc.def/archive.zip' },
    { method: 'GET', path: `/files/abc.def/images/${uid}.dcm` },
    { method: 'HEAD', path: `/files/abc.def/images/${uid}.dcm` },
    { method: 'PUT', path: '/submissions/1/files' },
    { method: 'POST', path: '/graphql' },
  ];

  it('answers a malformed or forged bearer token with 401 and code UNAUTHENTICATED everywhere', async () => {
    for (const r of routes('1.2.3')) {
      for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer not.a.token']) {
        const res = await fetch(`${app.url}${r.path}`, {
          method: r.method, headers: { authorization, 'content-type': 'application/json' },
          body: r.method === 'GET' || r.method === 'HEAD' ? undefined : JSON.stringify({ query: '{ __typename }' }),
        });
        assert.equal(res.status, 401, `${r.method} ${r.path} with ${authorization.split(' ')[0]}`);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer');
        if (r.method === 'HEAD') continue;
        const body: any = await res.json();
        assert.equal(body.code ?? body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', `${r.method} ${r.path}`);
      }
    }
  });

  it('answers an anonymous caller 401 and a signed-in stranger 403 on a hidden object, the same as on an absent one', async () => {
    const knex = (app.orm.em as any).getKnex();
    await knex('collection').update({ release_state: ReleaseState.DRAFT }).where('accession', 'OBIA0001');
    const hidden = (await knex('series as s').join('collection as c', 'c.id', 's.collection_id').where('c.accession', 'OBIA0001').first('s.uid')).uid;
    const stranger = await app.token('stranger', Role.RESEARCHER);
    for (const uid of [hidden, '1.2.3.4.5.6.7']) {
      const anon = await fetch(`${app.url}/previews/${uid}.png`);
      assert.equal(anon.status, 401);
      const signedIn = await fetch(`${app.url}/previews/${uid}.png`, { headers: { authorization: `Bearer ${stranger}` } });
      assert.equal(signedIn.status, 403);
      assert.deepEqual(await signedIn.json(), { error: 'you may not view this', code: 'FORBIDDEN' });
    }
    const upload = await fetch(`${app.url}/submissions/999999/files`, { method: 'PUT', headers: { authorization: `Bearer ${await app.token('sub', Role.SUBMITTER)}` }, body: 'x' });
    assert.equal(upload.status, 403);
    assert.equal(((await upload.json()) as any).code, 'FORBIDDEN');
  });

  it('answers unknown routes 404 NOT_FOUND and unexpected methods without crashing', async () => {
    const res = await fetch(`${app.url}/no/such/route`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as any).code, 'NOT_FOUND');
    const bad = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as any).errors[0].extensions.code, 'BAD_USER_INPUT');
    assert.equal((await fetch(`${app.url}/health`)).status, 200);
  });
});
