import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../support/app.js';

describe('DICOMweb for a viewer on another origin behind a proxy', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ seedScale: 0.002, config: { dicomweb: { baseUrl: 'https://pacs.example.org/dicom-web', corsOrigins: ['https://viewer.example.org'] } } });
  });
  after(async () => { await app?.stop(); });

  it('answers the configured origin\u2019s preflight and requests, and no other origin', async () => {
    const preflight = await fetch(`${app.url}/dicom-web/studies`, { method: 'OPTIONS', headers: { origin: 'https://viewer.example.org', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://viewer.example.org');
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    const res = await fetch(`${app.url}/dicom-web/studies?limit=1`, { headers: { origin: 'https://viewer.example.org' } });
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://viewer.example.org');
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /Warning/);
    const other = await fetch(`${app.url}/dicom-web/studies?limit=1`, { headers: { origin: 'https://elsewhere.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const refused = await fetch(`${app.url}/dicom-web/studies/1.2.3/metadata`, { headers: { origin: 'https://viewer.example.org' } });
    assert.equal(refused.status, 404);
    assert.equal(refused.headers.get('access-control-allow-origin'), 'https://viewer.example.org', 'errors are readable by the viewer too');
  });

  it('builds RetrieveURLs on the configured base URL, whatever the forwarded headers say', async () => {
    const body: any = await (await fetch(`${app.url}/dicom-web/studies?limit=1`, { headers: { 'x-forwarded-host': 'other.example' } })).json();
    assert.equal(body.length, 1);
    assert.match(body[0]['00081190'].Value[0], /^https:\/\/pacs\.example\.org\/dicom-web\/studies\/[0-9.]+$/);
  });
});
