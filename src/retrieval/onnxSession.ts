import * as ort from 'onnxruntime-node';

/**
 * The hash model's onnxruntime session, on whichever thread runs it (HashModel in process, or
 * modelWorker.ts), from the model's bytes as readModelFile (modelFile.ts) checked them — never
 * from a path, which onnxruntime would read again on its own.
 */
export function openSession(model: Uint8Array, intraOpThreads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, {
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
}

/** The input side the model declares ([N,1,side,side]); null when its shape is symbolic. */
export function inputSide(session: ort.InferenceSession): number | null {
  const meta = session.inputMetadata?.[0];
  const dim = meta && meta.isTensor ? meta.shape[3] : undefined;
  return typeof dim === 'number' && dim > 0 ? dim : null;
}

/** Outputs, CODE_BITS per input, for `n` square inputs laid end to end. */
export async function runSession(session: ort.InferenceSession, data: Float32Array, n: number): Promise<Float32Array> {
  const side = Math.round(Math.sqrt(data.length / n));
  const result = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', data, [n, 1, side, side]) });
  return result[session.outputNames[0]!]!.data as Float32Array;
}
