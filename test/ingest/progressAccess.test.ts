// submissionProgress of a submission the caller may not see was accepted and refused per event:
// the stranger's subscription stayed open and was answered an error each time the other's files
// changed state — when and how much someone else processes — and held one of the caller's
// live-operation places. Now it is refused when made (FORBIDDEN, or UNAUTHENTICATED anonymously;
// the same for an id that does not exist) and ends, as qcEvents is.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../support/app.js';
import { subscribeLive, subscriptionOutcome } from '../support/live.js';
import { createSubmission, submitter } from './helpers.js';

const PROGRESS = `subscription($s: ID!) { submissionProgress(submission: $s) { state } }`;

describe('submissionProgress of a submission the caller may not see', () => {
  let app: TestApp;
  let owner: string;
  let submissionId: string;
  before(async () => {
    app = await startTestApp();
    owner = await submitter(app, 'progress-owner');
    submissionId = (await createSubmission(app, owner, { title: 'Watched' })).id;
  });
  after(async () => app?.stop());

  it('is refused when made, and ends, for strangers, anonymous callers and absent ids alike', async () => {
    const stranger = await submitter(app, 'progress-stranger');
    for (const [token, code] of [[stranger, 'FORBIDDEN'], [null, 'UNAUTHENTICATED']] as const) {
      for (const s of [submissionId, '987654']) {
        assert.deepEqual(await subscriptionOutcome(app, token, PROGRESS, { s }), { kind: 'ended', code }, `${code} for submission ${s}`);
      }
    }
  });

  it('still answers its owner, current state first', async () => {
    const own = await subscribeLive(app, owner, PROGRESS, { s: submissionId });
    try {
      const first = await own.next(() => true, 'the current state');
      assert.equal(first.data?.submissionProgress?.state, 'OPEN');
    } finally {
      await own.dispose();
    }
  });
});
