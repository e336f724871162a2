// The hash model is a verified read: a model file is loaded only when its sha256 is the pinned one
// (src/retrieval/modelFile.ts), in process and on the model thread, and the bytes checked are the
// bytes loaded. One flipped byte of the shipped model still loads in onnxruntime (and, at the
// middle of the file, gives most images another code): only the digest tells.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { DEFAULT_MODEL_PATH, HashModel } from '../../src/retrieval/HashModel';
import { ModelIntegrityError, PINNED_MODELS } from '../../src/retrieval/modelFile';
import { REPO } from './helpers';
import { noDatabase } from '../support/once.js';

noDatabase('loading the hash model: its pinned sha256');

/** evalRetrieval.ts's PREVIOUS_MODEL_PATH (importing the CLI would run it). */
const PREVIOUS_MODEL_PATH = path.join(path.dirname(DEFAULT_MODEL_PATH), 'obia-hash64-v1.onnx');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const scratch = mkdtempSync(path.join(tmpdir(), 'obia-model-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the shipped model with one byte flipped, at the middle of the file (inside the weights). */
function flippedCopy(name: string): string {
  const bytes = readFileSync(DEFAULT_MODEL_PATH);
  bytes[Math.floor(bytes.length / 2) + 3]! ^= 0x40;
  const file = path.join(scratch, name);
  writeFileSync(file, bytes);
  return file;
}

const refused = (file: string, pin = 'obia-hash64') => (err: unknown) => {
  assert.ok(err instanceof ModelIntegrityError, `expected ModelIntegrityError, got ${(err as Error)?.name}: ${(err as Error)?.message}`);
  assert.equal(err.file, file);
  assert.equal(err.pin, pin);
  assert.equal(err.actual, sha256(readFileSync(file)));
  assert.match(err.message, /does not match the pinned sha256/);
  assert.ok(err.message.includes(file), err.message);
  return true;
};

test('the pins are the shipped files\' digests, and the parity fixture was made by the pinned model', () => {
  assert.equal(sha256(readFileSync(DEFAULT_MODEL_PATH)), PINNED_MODELS['obia-hash64']);
  assert.equal(sha256(readFileSync(PREVIOUS_MODEL_PATH)), PINNED_MODELS['obia-hash64-v1']);
  const fixture = JSON.parse(readFileSync(path.join(REPO, 'test/retrieval/fixtures/python-codes.json'), 'utf8')) as { modelSha256: string };
  assert.equal(fixture.modelSha256, PINNED_MODELS['obia-hash64']);
});

test('the shipped models load, in process and on the model thread', async () => {
  const here = await HashModel.load();
  const away = await HashModel.load(undefined, { offThread: true });
  const previous = await HashModel.load(PREVIOUS_MODEL_PATH, { pin: 'obia-hash64-v1' });
  try {
    assert.equal(here.side, 128);
    assert.equal(away.side, 128);
    assert.equal(previous.side, 64);
  } finally {
    await here.close();
    await away.close();
    await previous.close();
  }
});

test('a copy of the model with one byte flipped is refused in process, and never loaded', async (t) => {
  const file = flippedCopy('flipped-here.onnx');
  const create = t.mock.method(ort.InferenceSession, 'create');
  await assert.rejects(HashModel.load(file), refused(file));
  assert.equal(create.mock.callCount(), 0, 'onnxruntime never saw the file');
});

test('a copy of the model with one byte flipped is refused on the model thread (the error keeps its class across the thread)', async () => {
  const file = flippedCopy('flipped-away.onnx');
  await assert.rejects(HashModel.load(file, { offThread: true }), refused(file));
  // Refused again, not remembered as loaded: the thread read the file again.
  await assert.rejects(HashModel.load(file, { offThread: true }), refused(file));
});

test('the pin is the model, not the path: the shipped file\'s name on a damaged copy, or another model, is refused', async () => {
  const dir = mkdtempSync(path.join(scratch, 'models-'));
  const named = path.join(dir, 'obia-hash64.onnx');
  writeFileSync(named, readFileSync(flippedCopy('flipped-named.onnx')));
  await assert.rejects(HashModel.load(named, { offThread: true }), refused(named));
  // A swapped model (the previous one, under the shipped name) is refused as well.
  const swapped = path.join(dir, 'swapped.onnx');
  copyFileSync(PREVIOUS_MODEL_PATH, swapped);
  await assert.rejects(HashModel.load(swapped), refused(swapped));
  await assert.rejects(HashModel.load(DEFAULT_MODEL_PATH, { pin: 'obia-hash64-v1' }), refused(DEFAULT_MODEL_PATH, 'obia-hash64-v1'));
});

test('research: with pin false (a CLI\'s explicit --model) an unpinned file loads, deliberately', async () => {
  const file = flippedCopy('research.onnx');
  const model = await HashModel.load(file, { pin: false });
  assert.equal(model.side, 128);
  await model.close();
  // …and a thread that loaded it unchecked does not answer for a pinned load of the same file.
  const away = await HashModel.load(file, { offThread: true, pin: false });
  await away.close();
  await assert.rejects(HashModel.load(file, { offThread: true }), refused(file));
});

test('the bytes checked are the bytes loaded: onnxruntime is given the checked buffer, never the path', async (t) => {
  // Given a path, onnxruntime would read the file again on its own, after the check (and a file
  // replaced in between would be loaded unchecked).
  const given: unknown[] = [];
  const create = ort.InferenceSession.create;
  t.mock.method(ort.InferenceSession, 'create', function (this: unknown, ...args: unknown[]) {
    given.push(args[0]);
    return (create as (...a: unknown[]) => unknown).apply(this, args);
  });
  const model = await HashModel.load();
  await model.close();
  assert.equal(given.length, 1);
  assert.ok(given[0] instanceof Uint8Array, `onnxruntime was given ${typeof given[0]}`);
  assert.equal(sha256(given[0]), PINNED_MODELS['obia-hash64']);
});
