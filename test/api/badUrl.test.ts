// Regression: a path with a malformed percent-escape (GET /thumbnails/%E0%A4%A, /files/%ZZ/…) was
// answered by Fastify's router itself, before the server's one error handler: 400 with
// {"code":"FST_ERR_BAD_URL","message":"'/thumbnails/%E0%A4%A' is not a valid url component"} — a
// code outside the archive's vocabulary and the caller's path echoed back. Now BAD_USER_INPUT in
// the route family's shape, without the path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import type { Door } from '../../src/http/door.js';
import { buildHttpServer } from '../../src/http/server.js';
import { logger } from '../../src/log.js';
import { noDatabase } from '../support/once.js';

noDatabase('the HTTP server shell with one stub route; no app, no database');

describe('a URL the router cannot decode', () => {
  it('is BAD_USER_INPUT (400) in the one error shape, echoing nothing', async () => {
    const door = { config: loadConfig({}), log: logger } as unknown as Door;
    const app = await buildHttpServer(door, [async (f) => {
      f.get('/thumbnails/:uid', async () => ({ ok: true }));
      f.post('/graphql', async () => ({ data: null }));
    }]);
    try {
      for (const url of ['/thumbnails/%E0%A4%A', '/thumbnails/%ZZ', '/thumbnails/%C0%AF']) {
        const res = await app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 400, url);
        assert.deepEqual(res.json(), { error: 'the URL is not valid: a malformed percent-escape or not UTF-8', code: 'BAD_USER_INPUT' }, url);
      }
      const gql = await app.inject({ method: 'POST', url: '/graphql/%ZZ', payload: {} });
      assert.equal(gql.statusCode, 400);
      assert.equal(gql.json().errors[0].extensions.code, 'BAD_USER_INPUT');
      assert.doesNotMatch(gql.body, /%ZZ/);
      assert.equal((await app.inject({ method: 'GET', url: '/thumbnails/1.2.3' })).statusCode, 200, 'a good path is routed as before');
    } finally {
      await app.close();
    }
  });
});
