// The model thread (HashModel with `offThread`): holds the onnxruntime session and runs each batch
// here. onnxruntime-node's `run()` is a setImmediate and then the synchronous native inference
// (onnxruntime-node/dist/backend.js), so on the main thread every call — an ingest batch of 32
// images at 128 px is ≈ 35 ms — blocks the event loop for its whole length.
import type { InferenceSession } from 'onnxruntime-node';
import { inputSide, openSession, runSession } from './onnxSession';

/** A batch to run ([n, 1, side, side] float32, see preprocess.ts), or, without `data`, a question for the model's input side. */
export interface ModelTask { modelPath: string; intraOpThreads: number; data?: Float32Array; n?: number }

const sessions = new Map<string, Promise<InferenceSession>>();

/** The session for a model, made on this thread's first task for it (a replaced thread makes its own). */
function session(modelPath: string, intraOpThreads: number): Promise<InferenceSession> {
  let s = sessions.get(modelPath);
  if (!s) {
    s = openSession(modelPath, intraOpThreads);
    // A model that failed to load is tried again by the next task, not remembered as failed.
    s.catch(() => sessions.delete(modelPath));
    sessions.set(modelPath, s);
  }
  return s;
}

/** The model's input side, or the outputs (CODE_BITS per input) of a batch. */
export default async function run(task: ModelTask): Promise<{ side: number | null } | Float32Array> {
  const s = await session(task.modelPath, task.intraOpThreads);
  return task.data ? runSession(s, task.data, task.n ?? 1) : { side: inputSide(s) };
}
