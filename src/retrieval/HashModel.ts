import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { CODE_BITS, outputsToCode } from './code';
import { MODEL_SIDE, preprocess, type Gray8Image } from './preprocess';

/** models/obia-hash64.onnx at the repository root (this file runs from dist/src/retrieval). */
export const DEFAULT_MODEL_PATH = path.resolve(__dirname, '../../../models/obia-hash64.onnx');

const PIXELS = MODEL_SIDE * MODEL_SIDE;

export interface HashModelOptions {
  /** images per onnxruntime call */
  batchSize?: number;
  intraOpThreads?: number;
}

/**
 * The deep-hashing CNN: float32 [N,1,64,64] (see preprocess.ts) → 64 real outputs whose
 * signs are the code bits (see code.ts for the bit order).
 */
export class HashModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly inputName: string,
    private readonly outputName: string,
    private readonly batchSize: number,
  ) {}

  static async load(modelPath = DEFAULT_MODEL_PATH, opts: HashModelOptions = {}): Promise<HashModel> {
    const session = await ort.InferenceSession.create(modelPath, {
      intraOpNumThreads: opts.intraOpThreads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return new HashModel(session, session.inputNames[0], session.outputNames[0], opts.batchSize ?? 64);
  }

  /** Raw outputs, CODE_BITS per input, for preprocessed inputs. */
  async embed(inputs: readonly Float32Array[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < inputs.length; start += this.batchSize) {
      const chunk = inputs.slice(start, start + this.batchSize);
      const data = new Float32Array(chunk.length * PIXELS);
      chunk.forEach((x, i) => {
        if (x.length !== PIXELS) throw new RangeError(`model input must have ${PIXELS} values, got ${x.length}`);
        data.set(x, i * PIXELS);
      });
      const feeds = { [this.inputName]: new ort.Tensor('float32', data, [chunk.length, 1, MODEL_SIDE, MODEL_SIDE]) };
      const result = await this.session.run(feeds);
      const y = result[this.outputName].data as Float32Array;
      for (let i = 0; i < chunk.length; i++) out.push(y.slice(i * CODE_BITS, (i + 1) * CODE_BITS));
    }
    return out;
  }

  async hashInputs(inputs: readonly Float32Array[]): Promise<bigint[]> {
    return (await this.embed(inputs)).map((y) => outputsToCode(y));
  }

  async hashImages(images: readonly Gray8Image[]): Promise<bigint[]> {
    return this.hashInputs(images.map(preprocess));
  }

  async hashImage(image: Gray8Image): Promise<bigint> {
    return (await this.hashImages([image]))[0];
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
