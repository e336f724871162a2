import { readFile } from 'node:fs/promises';
import { sha256Hex } from '../storage/BlobStore.js';

/**
 * The sha256 of each model file the repository ships (models/*.onnx), by model name. The archive
 * reads nothing back unverified (stored blobs are re-hashed before serving), and the model is no
 * exception: a damaged or swapped file would give every new image a code from another function
 * than the one that made the codes already in the index, and nothing else would notice.
 *
 * A constant in the code rather than a manifest beside the files: a pin must not share the fate
 * of what it checks. A models/ folder copied from another checkout, synced half-way or overwritten
 * by a retrained export brings along whatever manifest lies next to it; this constant is built
 * into the code whose archive holds codes made by exactly these bytes, and shipping another model
 * is a reviewed change to it (training/README.md, "to ship"). test/retrieval/modelIntegrity checks
 * it against the files and the parity fixture.
 */
export const PINNED_MODELS = {
  /** models/obia-hash64.onnx: the server's model (HashCatalog), the CLIs' default. */
  'obia-hash64': 'ea724d412d43846c05b2c614c121f26f217bc4350c7356a6ece275b27ebe8be3',
  /** models/obia-hash64-v1.onnx: the previous model, for `npm run eval:retrieval` only. */
  'obia-hash64-v1': 'f94d47ffd4a4fc0e6f1e83f2df0e666379fd2aa9eaeaeb268cbc947090b30668',
} as const;

export type PinnedModel = keyof typeof PINNED_MODELS;

/**
 * What a model file must be before it is loaded: the pinned model whose sha256 it must have, or
 * `false`: any file, unchecked — a deliberate choice for research (a CLI given `--model`), never
 * the server's.
 */
export type ModelPin = PinnedModel | false;

/** A model file whose bytes are not the pinned model's: it was not loaded. */
export class ModelIntegrityError extends Error {
  override readonly name = 'ModelIntegrityError';
  constructor(readonly file: string, readonly pin: PinnedModel, readonly actual: string) {
    super(`hash model file ${file}: its sha256 ${actual} does not match the pinned sha256 of ${pin} (${PINNED_MODELS[pin]}); not loaded`);
  }
}

/**
 * The file's bytes, once: the digest is taken of the very buffer onnxruntime is then given
 * (InferenceSession.create(bytes)), so what was checked is what is loaded, whatever happens to
 * the file in between.
 */
export async function readModelFile(file: string, pin: ModelPin): Promise<Uint8Array> {
  const bytes = await readFile(file);
  if (pin !== false) {
    const actual = sha256Hex(bytes);
    if (actual !== PINNED_MODELS[pin]) throw new ModelIntegrityError(file, pin, actual);
  }
  return bytes;
}

/** A refusal as it crosses from the model thread (a thrown error's class does not survive the structured clone). */
export interface ModelRefusal { refused: { file: string; pin: PinnedModel; actual: string } }

export function isRefusal(x: unknown): x is ModelRefusal {
  return typeof x === 'object' && x !== null && 'refused' in x;
}

export function refusalOf(err: ModelIntegrityError): ModelRefusal {
  return { refused: { file: err.file, pin: err.pin, actual: err.actual } };
}

export function errorOf(r: ModelRefusal): ModelIntegrityError {
  return new ModelIntegrityError(r.refused.file, r.refused.pin, r.refused.actual);
}
