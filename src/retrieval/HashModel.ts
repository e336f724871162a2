import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { CODE_BITS, outputsToCode } from './code';
import { MODEL_SIDE, preprocessTo, type Gray8Image } from './preprocess';

/** models/obia-hash64.onnx at the repository root (this file runs from dist/src/retrieval). */
export const DEFAULT_MODEL_PATH = path.resolve(__dirname, '../../../models/obia-hash64.onnx');

export interface HashModelOptions {
  /** images per onnxruntime call */
  batchSize?: number;
  intraOpThreads?: number;
}

/**
 * The deep-hashing CNN: float32 [N,1,side,side] (see preprocess.ts) → 64 real outputs whose
 * signs are the code bits (see code.ts for the bit order). The side is read from the model's
 * input shape, so an older model (64×64) can still be evaluated next to the shipped one.
 */
export class HashModel {
  /** model input side in pixels */
  readonly side: number;
  private readonly pixels: number;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly inputName: string,
    private readonly outputName: string,
    private readonly batchSize: number,
  ) {
    const meta = session.inputMetadata?.[0];
    const dim = meta && meta.isTensor ? meta.shape[3] : undefined;
    this.side = typeof dim === 'number' && dim > 0 ? dim : MODEL_SIDE;
    this.pixels = this.side * this.side;
  }

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
      const data = new Float32Array(chunk.length * this.pixels);
      chunk.forEach((x, i) => {
        if (x.length !== this.pixels) throw new RangeError(`model input must have ${this.pixels} values, got ${x.length}`);
        data.set(x, i * this.pixels);
      });
      const feeds = { [this.inputName]: new ort.Tensor('float32', data, [chunk.length, 1, this.side, this.side]) };
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
    return this.hashInputs(images.map((img) => preprocessTo(img, this.side)));
  }

  async hashImage(image: Gray8Image): Promise<bigint> {
    return (await this.hashImages([image]))[0];
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
