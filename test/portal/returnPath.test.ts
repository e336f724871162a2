// Sign-in's `next` (and the OIDC flow's returnTo) comes from a link anyone can craft: only a path
// on the portal's origin is followed. The old page took anything starting with "/" (so
// "//evil.example" and "/\evil.example", another origin to a URL parser) and the OIDC flow took
// anything at all; the history API then threw SecurityError after a successful sign-in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { returnPath } from '../../portal/src/returnPath.js';
import { noDatabase } from '../support/once.js';

noDatabase('a pure function of the portal');

describe('where sign-in returns to', () => {
  const origin = 'http://127.0.0.1:4000';
  it('another origin, a scheme, a protocol-relative or backslashed path, or the sign-in pages: home', () => {
    for (const next of ['//evil.example/x', '/\\evil.example', '/\\/evil.example', 'https://evil.example/', 'javascript:alert(1)', 'data:text/html,x',
      'http://127.0.0.1:4000.evil.example/', ' /browse', '/sign-in?next=/x', '/sign-in/callback?code=1', '', null, undefined]) {
      assert.equal(returnPath(next, origin), '/', String(next));
    }
  });
  it('a path on this origin, with its query and fragment, is kept as written', () => {
    for (const next of ['/', '/browse?modality=CT&after=abc', '/collections/OBIA0001#files', '/series/1.2.840.113619.2.5', '/access/request/OBIA0003']) {
      assert.equal(returnPath(next, origin), next);
    }
    assert.equal(returnPath('/a/../collections/OBIA0001', origin), '/collections/OBIA0001');
  });
});
