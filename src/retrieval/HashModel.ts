import * as fs from 'node:fs';
import * as path from 'node:path';
import { Piscina } from 'piscina';
import { CODE_BITS, outputsToCode } from './code';
import { errorOf, isRefusal, readModelFile, type ModelPin, type ModelRefusal } from './modelFile';
import type { ModelTask } from './modelWorker';
import { inputSide, openSession, runSession } from './onnxSession';
import { MODEL_SIDE, preprocessTo, type Gray8Image } from './preprocess';

/** models/obia-hash64.onnx at the repository root (this file runs from dist/src/retrieval). */
export const DEFAULT_MODEL_PATH = path.resolve(__dirname, '../../../models/obia-hash64.onnx');

export interface HashModelOptions {
  /** images per onnxruntime call */
  batchSize?: number;
  intraOpThreads?: number;
  /**
   * Run the model on a thread of its own (modelWorker.ts) instead of this one. onnxruntime-node's
   * run() blocks the calling thread for the whole inference (≈ 1.1 ms an image at 128 px), so a
   * server (ingest batches, similarImages) keeps it off the event loop; a CLI need not.
   */
  offThread?: boolean;
  /**
   * What the file must be (modelFile.ts): its sha256 is checked against this pinned model's before
   * it is loaded, a mismatch refused with ModelIntegrityError. Default `obia-hash64`, the shipped
   * model, wherever the file lies. `false` loads any file unchecked: research only (a CLI given an
   * explicit `--model`); the server never passes it.
   */
  pin?: ModelPin;
}

/**
 * The process's model threads, one per model file (and onnxruntime thread count), shared by every
 * HashModel loaded off thread. One thread: a model call is already a batch, and onnxruntime's own
 * threads are what `intraOpThreads` sets. Starting one and loading the model costs ≈ 0.2 CPU-s;
 * a process that opens several archives (the test kit builds an app per test file or test) paid
 * it for each one's catalogue. Idle, the thread does not keep the process alive (piscina unrefs
 * it), and it ends after ten idle minutes. The file's size and modification time are part of the
 * key: a model written again at the same path (training) is loaded afresh. So is the pin: a
 * thread that loaded a file unchecked never answers for a pinned load of it.
 */
const modelThreads = new Map<string, Piscina>();

function modelThread(modelPath: string, pin: ModelPin, intraOpThreads: number): Piscina {
  const st = fs.statSync(modelPath);
  const key = `${intraOpThreads}:${pin}:${st.size}:${st.mtimeMs}:${modelPath}`;
  let pool = modelThreads.get(key);
  if (!pool) {
    pool = new Piscina({ filename: path.join(__dirname, 'modelWorker.js'), minThreads: 0, maxThreads: 1, idleTimeout: 10 * 60_000 });
    modelThreads.set(key, pool);
  }
  return pool;
}

/** Outputs (CODE_BITS per input) for `n` inputs laid end to end. */
type Infer = (data: Float32Array, n: number) => Promise<Float32Array>;

/**
 * The deep-hashing CNN: float32 [N,1,side,side] (see preprocess.ts) → 64 real outputs whose
 * signs are the code bits (see code.ts for the bit order). The side is read from the model's
 * input shape, so an older model (64×64) can still be evaluated next to the shipped one.
 *
 * Loading reads the file once and checks its sha256 against the pinned one (`pin`) before
 * onnxruntime sees those very bytes, in process or on the model thread: a file that is not the
 * pinned model is refused (ModelIntegrityError), never loaded.
 */
export class HashModel {
  private readonly pixels: number;

  private constructor(
    /** model input side in pixels */
    readonly side: number,
    private readonly infer: Infer,
    private readonly release: () => Promise<void>,
    private readonly batchSize: number,
  ) {
    this.pixels = side * side;
  }

  static async load(modelPath = DEFAULT_MODEL_PATH, opts: HashModelOptions = {}): Promise<HashModel> {
    const intraOpThreads = opts.intraOpThreads ?? 1;
    const batchSize = opts.batchSize ?? 64;
    const pin = opts.pin ?? 'obia-hash64';
    if (opts.offThread) {
      const pool = modelThread(modelPath, pin, intraOpThreads);
      // Each task may be the one that loads the model (the first, or the first on a thread piscina
      // started again), so each may come back refused.
      const task = async (t: ModelTask, transferList?: ArrayBuffer[]) => {
        const r = (await pool.run(t, transferList ? { transferList } : {})) as { side: number | null } | Float32Array | ModelRefusal;
        if (isRefusal(r)) throw errorOf(r);
        return r;
      };
      const { side } = (await task({ modelPath, pin, intraOpThreads })) as { side: number | null };
      const infer: Infer = async (data, n) => (await task({ modelPath, pin, intraOpThreads, data, n }, [data.buffer as ArrayBuffer])) as Float32Array;
      // The thread is the process's (modelThread), not this HashModel's: nothing to release.
      return new HashModel(side ?? MODEL_SIDE, infer, async () => {}, batchSize);
    }
    const session = await openSession(await readModelFile(modelPath, pin), intraOpThreads);
    const side = inputSide(session) ?? MODEL_SIDE;
    return new HashModel(side, (data, n) => runSession(session, data, n), () => session.release(), batchSize);
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
      const y = await this.infer(data, chunk.length);
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
    await this.release();
  }
}
