/**
 * npm run hash -- <files | directories | ->…   → "<file>\t<16 hex digits>" per image (PNG, JPEG, DICOM).
 *
 * Directories are walked (sorted, recursively; dot-files skipped). `-` reads a list of paths from
 * standard input, one per line (`find scans -name '*.dcm' | npm run hash -- -`). Any number of
 * paths is accepted. A path that cannot be read or decoded is reported on stderr and skipped;
 * the exit status is 1 if any failed.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { codeToHex } from '../code';
import { decodeImageFile } from '../decode';
import { HashModel } from '../HashModel';
import type { Gray8Image } from '../preprocess';

/**
 * onnxruntime-node crashes (SIGSEGV, no message) while creating its session when the process's
 * own argument list is long: 1,200 paths crash, 400 pass. Above this many arguments the command
 * starts itself again with a short argument list and hands the paths over on standard input.
 */
const MAX_DIRECT_ARGS = 64;
/** Internal: the path list arrives on standard input, NUL-separated (paths may contain newlines). */
const FROM_PARENT = '--paths0-from-stdin';
/** Images decoded before one batched model call; output order is input order. */
const BATCH = 32;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `-` → the lines of standard input; other arguments are kept as given. */
async function expandStdin(args: string[]): Promise<string[]> {
  if (!args.includes('-')) return args;
  const listed = (await readStdin()).split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l !== '');
  return args.flatMap((a) => (a === '-' ? listed : [a]));
}

/** Files under a directory, sorted by name at every level; a file path is yielded as is. */
function* walk(p: string, onError: (p: string, e: Error) => void): Generator<string> {
  let isDir = false;
  try {
    isDir = statSync(p).isDirectory();
  } catch {
    // Not there or unreadable: yield it so hashing reports the error against this path.
  }
  if (!isDir) {
    yield p;
    return;
  }
  let names: string[];
  try {
    names = readdirSync(p).filter((n) => !n.startsWith('.')).sort();
  } catch (e) {
    onError(p, e as Error);
    return;
  }
  for (const n of names) yield* walk(path.join(p, n), onError);
}

function respawnWithShortArgv(paths: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, FROM_PARENT], { stdio: ['pipe', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.stdin.end(paths.join('\0'));
  });
}

async function hashAll(inputs: string[]): Promise<number> {
  const model = await HashModel.load();
  let failed = 0, total = 0;
  const fail = (p: string, e: Error) => {
    failed++;
    console.error(`${p}: error: ${e.message}`);
  };
  let batch: { file: string; img?: Gray8Image; err?: Error }[] = [];
  const flush = async () => {
    const ok = batch.filter((b) => b.img);
    let codes: bigint[] = [];
    try {
      codes = await model.hashImages(ok.map((b) => b.img!));
    } catch {
      // One bad input must not take its batch down: hash them one by one.
      codes = [];
      for (const b of ok) codes.push(await model.hashImage(b.img!).catch((e: Error) => ((b.err = e), -1n)));
    }
    let j = 0;
    let out = '';
    for (const b of batch) {
      if (!b.img) {
        fail(b.file, b.err!);
        continue;
      }
      const code = codes[j++];
      if (b.err) fail(b.file, b.err);
      else out += `${b.file}\t${codeToHex(code)}\n`;
    }
    if (out && !process.stdout.write(out)) await new Promise((r) => process.stdout.once('drain', r));
    batch = [];
  };
  for (const input of inputs) {
    for (const file of walk(input, fail)) {
      total++;
      try {
        batch.push({ file, img: await decodeImageFile(file) });
      } catch (e) {
        batch.push({ file, err: e as Error });
      }
      if (batch.length >= BATCH) await flush();
    }
  }
  await flush();
  await model.close();
  if (failed) console.error(`${failed} of ${total} file(s) failed`);
  return failed ? 1 : 0;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv[0] === FROM_PARENT) return hashAll((await readStdin()).split('\0').filter((p) => p !== ''));
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    console.error('usage: npm run hash -- <image files (PNG, JPEG, DICOM) | directories | - (paths on stdin)>…');
    return 2;
  }
  const paths = await expandStdin(argv);
  if (process.argv.length > MAX_DIRECT_ARGS) return respawnWithShortArgv(paths);
  return hashAll(paths);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e);
    process.exitCode = 1;
  },
);
