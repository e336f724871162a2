import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { retrievalDataRoot } from '../../src/retrieval/dataset';
import { decodeJpeg } from '../../src/retrieval/decode';
import { DIST_CLI } from './helpers';
import { noDatabase } from '../support/once.js';

noDatabase('the hash CLI over image files');

const LINE = /^(.+)\t([0-9a-f]{16})$/;

// Scratch folders of this file's tests, removed when it ends.
const scratch: string[] = [];
after(() => { for (const dir of scratch) rmSync(dir, { recursive: true, force: true }); });
function scratchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

function runHash(files: string[], input?: string) {
  return spawnSync(process.execPath, [DIST_CLI, ...files], { encoding: 'utf8', input, maxBuffer: 64 << 20 });
}

test('hash CLI: JPEG and the same pixels as PNG give one code; bad files fail at the end', async () => {
  const dir = scratchDir('obia-hash-');
  const headDir = path.join(retrievalDataRoot(), 'val/HeadCT');
  const jpeg = path.join(headDir, readdirSync(headDir).sort()[0]);
  const grey = await decodeJpeg(readFileSync(jpeg));
  const png = new PNG({ width: grey.width, height: grey.height });
  grey.data.forEach((v, i) => png.data.set([v, v, v, 255], i * 4));
  const pngPath = path.join(dir, 'same.png');
  writeFileSync(pngPath, PNG.sync.write(png));
  const bad = path.join(dir, 'bad.png');
  writeFileSync(bad, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('truncated')]));
  const missing = path.join(dir, 'missing.jpeg');

  const r = runHash([jpeg, bad, pngPath, missing]);
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  const [a, b] = lines.map((l) => LINE.exec(l));
  assert.ok(a && b, r.stdout);
  assert.equal(a[1], jpeg);
  assert.equal(b[1], pngPath);
  assert.equal(a[2], b[2]);
  assert.match(r.stderr, /bad\.png: error: PNG decode failed/);
  assert.match(r.stderr, /missing\.jpeg: error: .*ENOENT/);

  const ok = runHash([jpeg]);
  assert.equal(ok.status, 0);
  assert.equal(ok.stdout, `${jpeg}\t${a[2]}\n`);
});

test('hash CLI: DICOM', () => {
  const dcm = path.resolve(process.cwd(), '../shared/deid/dicom/pydicom__CT_small.dcm');
  assert.ok(existsSync(dcm));
  const r = runHash([dcm]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${dcm.replace(/[.]/g, '\\.')}\\t[0-9a-f]{16}\\n$`));
});

test('hash CLI: 1,200 files as arguments, a list of them on stdin and a directory give the same codes; a bad file among them is reported', () => {
  // onnxruntime-node crashed with SIGSEGV and no output when the argument list held about 600 paths.
  const val = path.join(retrievalDataRoot(), 'val');
  const classes = readdirSync(val).sort();
  const files = classes.flatMap((c) => readdirSync(path.join(val, c)).sort().slice(0, 200).map((f) => path.join(val, c, f)));
  assert.equal(files.length, 1200);
  const dir = scratchDir('obia-hash-many-');
  const bad = path.join(dir, 'not-an-image.dcm');
  writeFileSync(bad, 'plain text, not DICOM');
  const listed = [...files.slice(0, 700), bad, ...files.slice(700)];

  const byArgs = runHash(listed);
  assert.equal(byArgs.status, 1, byArgs.stderr);
  assert.equal(byArgs.signal, null);
  const lines = byArgs.stdout.trim().split('\n');
  assert.equal(lines.length, 1200);
  assert.deepEqual(lines.map((l) => LINE.exec(l)?.[1]), files, 'one line per readable file, in the order given');
  assert.match(byArgs.stderr, /not-an-image\.dcm: error: /);
  assert.match(byArgs.stderr, /1 of 1201 file\(s\) failed/);

  // The list on stdin: the bad file and 200 around it (the argument list above is what once crashed).
  const byStdin = runHash(['-'], listed.slice(600, 801).join('\n') + '\n');
  assert.equal(byStdin.status, 1, byStdin.stderr);
  assert.equal(byStdin.stdout, lines.slice(600, 800).join('\n') + '\n');
  assert.match(byStdin.stderr, /not-an-image\.dcm: error: /);

  // A directory is walked recursively in sorted order: tree/<class>/<file>, 40 of each class's files
  // (links to the files above, given in reverse so the walk's order is its own), and its dot-files skipped.
  const tree = path.join(dir, 'tree');
  const picked = classes.flatMap((c) => readdirSync(path.join(val, c)).sort().slice(0, 40).map((f) => [c, f] as const));
  for (const [c, f] of [...picked].reverse()) {
    mkdirSync(path.join(tree, c), { recursive: true });
    symlinkSync(path.join(val, c, f), path.join(tree, c, f));
  }
  writeFileSync(path.join(tree, '.notes.txt'), 'not an image, and skipped');
  const byDir = runHash([tree]);
  assert.equal(byDir.status, 0, byDir.stderr);
  const dirLines = byDir.stdout.trim().split('\n').map((l) => LINE.exec(l)!);
  assert.deepEqual(dirLines.map((m) => m[1]), picked.map(([c, f]) => path.join(tree, c, f)), 'the walk is sorted by class, then file');
  const codeOf = new Map(lines.map((l) => LINE.exec(l)!.slice(1, 3) as [string, string]));
  for (const m of dirLines) assert.equal(m[2], codeOf.get(path.join(val, path.relative(tree, m[1]!))), m[1]);
});
