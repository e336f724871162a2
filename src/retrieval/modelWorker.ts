// The model thread (HashModel with `offThread`): holds the onnxruntime session and runs each batch
// here. onnxruntime-node's `run()` is a setImmediate and then the synchronous native inference
// (onnxruntime-node/dist/backend.js), so on the main thread every call — an ingest batch of 32
// images at 128 px is ≈ 35 ms — blocks the event loop for its whole length.
import type { InferenceSession } from 'onnxruntime-node';
import { ModelIntegrityError, readModelFile, refusalOf, type ModelPin, type ModelRefusal } from './modelFile';
import { inputSide, openSession, runSession } from './onnxSession';

/**
 * A batch to run ([n, 1, side, side] float32, see preprocess.ts), or, without `data`, a question
 * for the model's input side. `pin`: what the file must be (modelFile.ts), checked here, on the
 * bytes this thread reads and loads.
 */
export interface ModelTask { modelPath: string; pin: ModelPin; intraOpThreads: number; data?: Float32Array; n?: number }

// One pool per model file and pin (HashModel.ts, modelThread): this thread holds that model's session,
// made by its first task (a thread piscina starts in place of one that died makes its own, and
// checks the file again).
let session: Promise<InferenceSession> | null = null;

function sessionFor(task: ModelTask): Promise<InferenceSession> {
  if (!session) {
    const opened = readModelFile(task.modelPath, task.pin).then((bytes) => openSession(bytes, task.intraOpThreads));
    // A model that failed to load (or was refused) is tried again by the next task, not remembered as failed.
    opened.catch(() => { if (session === opened) session = null; });
    session = opened;
  }
  return session;
}

/** The model's input side, or the outputs (CODE_BITS per input) of a batch; a refusal when the file is not the pinned model. */
export default async function run(task: ModelTask): Promise<{ side: number | null } | Float32Array | ModelRefusal> {
  let s: InferenceSession;
  try {
    s = await sessionFor(task);
  } catch (err) {
    if (err instanceof ModelIntegrityError) return refusalOf(err);
    throw err;
  }
  return task.data ? runSession(s, task.data, task.n ?? 1) : { side: inputSide(s) };
}
