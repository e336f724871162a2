// The names clients send files under (?name=, X-File-Name, the paths inside a zip) are the
// client's words: stored beside the staged bytes, read back by the submitter and curators, never
// used as a path. A name that is not one string, that is overlong, or that carries characters
// that rewrite what a reader sees (control characters, newlines for log lines, bidirectional
// overrides, lone surrogates) is refused with 400 and nothing staged; a zip's entry names, which
// cannot be refused one by one, are cleaned to the same rules.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { cleanFileName, fileNameProblem } from '../../src/ingest/staging.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createSubmission, fetchSubmission, makeCt, submitter, uid } from './helpers.js';

describe('upload names', () => {
  it('takes a lone surrogate for no character', () => {
    assert.match(fileNameProblem('a\uD800b.dcm') ?? '', /not valid Unicode/);
    assert.equal(cleanFileName('a\uD800b\uDC00.dcm'), 'ab.dcm');
    assert.equal(cleanFileName('\u{1F600}'.repeat(2000)), '\u{1F600}'.repeat(1024), 'cut by code points, never inside a pair');
  });

  let app: TestApp;
  let token: string;
  before(async () => {
    app = await startTestApp();
    token = await submitter(app);
  });
  after(async () => app?.stop());

  const ct = () => makeCt({ patientId: 'NAMES-1', studyUid: uid(), seriesUid: uid(), sopUid: uid() });
  const put = async (url: string, bytes: Uint8Array, headers: Record<string, string> = {}) => {
    const res = await fetch(`${app.url}${url}`, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${token}`, ...headers } });
    const text = await res.text();
    let body: any = null;
    try { body = JSON.parse(text); } catch { /* asserted below */ }
    return { status: res.status, body, text };
  };

  it('refuses a repeated, overlong or control-laden name with 400 BAD_USER_INPUT and stages nothing', async () => {
    const sub = await createSubmission(app, token);
    const bad = [
      '?name=a.dcm&name=b.dcm',
      `?name=${'x'.repeat(10_000)}.dcm`,
      `?name=${encodeURIComponent('a\0b.dcm')}`,
      `?name=${encodeURIComponent('ok.dcm\n{"level":50,"msg":"forged"}')}`,
      `?name=${encodeURIComponent('a\x7fb.dcm')}`,
      `?name=${encodeURIComponent('a\u0085b.dcm')}`,
      `?name=${encodeURIComponent('invoice\u202Emcd.exe')}`,
      `?name=${encodeURIComponent('line\u2028break.dcm')}`,
    ];
    for (const q of bad) {
      const res = await put(`${sub.uploadUrl}${q}`, ct());
      assert.equal(res.status, 400, `${q.slice(0, 60)}: ${res.status} ${res.text.slice(0, 200)}`);
      assert.equal(res.body?.code, 'BAD_USER_INPUT', q.slice(0, 60));
    }
    const viaHeader = await put(sub.uploadUrl, ct(), { 'x-file-name': 'y'.repeat(5000) });
    assert.equal(viaHeader.status, 400, viaHeader.text.slice(0, 200));
    const files = (await fetchSubmission(app, token, sub.id)).files;
    assert.equal(files.length, 0, 'a refused upload stages nothing');
    // A name sent raw as UTF-8 in X-File-Name (Node reads header bytes as Latin-1) is that name.
    const raw = Buffer.from('série—1.dcm', 'utf8').toString('latin1');
    const viaUtf8 = await put(sub.uploadUrl, ct(), { 'x-file-name': raw });
    assert.equal(viaUtf8.status, 201, viaUtf8.text);
    assert.equal(viaUtf8.body.files[0].name, 'série—1.dcm');
    // The server still takes a good one.
    const good = await put(`${sub.uploadUrl}?name=${encodeURIComponent('séries/../../etc/passwd ü.dcm')}`, ct());
    assert.equal(good.status, 201, good.text);
    assert.equal(good.body.files[0].name, 'séries/../../etc/passwd ü.dcm'.normalize('NFC'));
  });

  it('cleans the entry names of a zip to the same rules', async () => {
    const sub = await createSubmission(app, token);
    const zip = zipSync({
      [`${'d'.repeat(3000)}/deep.dcm`]: ct(),
      'ok\u202Egpj.dcm': ct(),
      'a\x1b[31mred\x7f\u0085.dcm': ct(),
    });
    const res = await put(`${sub.uploadUrl}?name=batch.zip`, zip);
    assert.equal(res.status, 201, res.text);
    for (const f of res.body.files) {
      assert.ok([...f.name].length <= 1024, `${f.name.length} characters`);
      assert.doesNotMatch(f.name, /[\0-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/u, JSON.stringify(f.name));
    }
    const names = (await fetchSubmission(app, token, sub.id)).files.map((f: any) => f.originalName);
    assert.equal(names.length, 3);
    for (const n of names) assert.doesNotMatch(n, /[\0-\x1f\x7f-\x9f\u202a-\u202e]/u);
  });
});
