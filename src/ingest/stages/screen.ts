// screen: QC's per-file checks (on the worker pool) and cross-file checks over the whole
// submission's RECEIVED files, before anything is de-identified. A file that fails leaves with
// its outcome (told to QC as it is decided); one that passes becomes PARSED with its patient key
// and de-identified image UID, learnt from the same read. A file's per-file check has usually
// run already, while it was being uploaded (prescreen.ts); otherwise it runs here. A run that
// starts while files still arrive screens in rounds (IngestPipeline.run): `history` carries what
// earlier rounds saw, so cross-file checks span the rounds.
import { localPatientKey, remapUid } from '../../deid/index.js';
import { SubmissionFile } from '../../entities/index.js';
import { FileState } from '../../entities/SubmissionFile.js';
import { screenFiles, type ScreenHistory, type ScreenSummary } from '../../qc/screen.js';
import { updateRows } from '../batchWrites.js';
import type { FileOutcome, RunContext } from '../stage.js';
import type { PipelineDeps } from './deps.js';

/** What a screening decided, and which RECEIVED files it saw (the ones its run may batch). */
export interface Screened {
  summary: ScreenSummary;
  seen: ReadonlySet<number>;
}

export async function screen(run: Pick<RunContext, 'submissionId' | 'collectionId' | 'uidKey'>, deps: PipelineDeps, history?: ScreenHistory): Promise<Screened> {
  const files = await deps.em().find(SubmissionFile, { submission: run.submissionId, state: FileState.RECEIVED },
    { fields: ['id', 'stagingPath'], orderBy: { id: 'asc' } });
  const result = await screenFiles(files, async (p) => {
    const file = deps.staging.absolute(p);
    return (await deps.prescreen.take(file)) ?? deps.cpu.check(file);
  }, history);
  const outcomes: FileOutcome[] = [...result.verdicts].map(([fileId, v]) => ({
    fileId, kind: v.state === FileState.DUPLICATE ? 'DUPLICATE' : 'QUARANTINED', reason: v.finding.reason, message: v.finding.message,
  }));
  await deps.outcomes.write(run, outcomes);
  const parsed = [...result.passed].map(([id, facts]) => ({
    id, values: { state: FileState.PARSED, patient_key: localPatientKey(facts.patientId!, deps.secret), image_uid: remapUid(facts.sopInstanceUid!, run.uidKey) },
  }));
  await updateRows(deps.em(), 'submission_file', parsed);
  return { summary: result.summary, seen: new Set(files.map((f) => f.id)) };
}
