// `npm start` (with --if-possible) and the portal tests call this: builds portal/dist when it is missing or older
// than any of its sources, and does nothing otherwise (a second start costs a few stat calls).
// Test files run concurrently, so one build at a time: the others wait for its lock, then find
// the build fresh.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const built = path.join(here, 'dist', 'index.html');
const lock = path.join(here, '.build-lock');
const sources = [path.join(here, 'src'), path.join(here, 'index.html'), path.join(here, 'vite.config.mjs'), path.join(here, '..', 'package-lock.json')];

function newest(p) {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...fs.readdirSync(p).map((f) => newest(path.join(p, f))));
}

const stale = () => !fs.existsSync(built) || sources.some((s) => fs.existsSync(s) && newest(s) > fs.statSync(built).mtimeMs);
const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function holderAlive() {
  try { process.kill(Number(fs.readFileSync(lock, 'utf8')), 0); return true; } catch { return false; }
}

for (let waited = 0; stale(); ) {
  let fd;
  try {
    fd = fs.openSync(lock, 'wx');
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
    // Another process is building; a lock left by a process that died is taken over.
    if (!holderAlive()) { fs.rmSync(lock, { force: true }); continue; }
    if ((waited += 250) > 300_000) throw new Error(`waited 5 minutes for ${lock}; remove it if no build is running`);
    pause(250);
    continue;
  }
  try {
    fs.writeSync(fd, String(process.pid));
    fs.closeSync(fd);
    if (stale()) {
      console.log('building the portal (portal/dist)…');
      const r = spawnSync('npm', ['run', '--silent', 'build:portal'], { cwd: path.join(here, '..'), stdio: 'inherit' });
      if (r.status !== 0) {
        // `npm start` passes --if-possible: an install without devDependencies still serves the
        // API (the portal's path then says how to build it); the tests insist on a build.
        if (!process.argv.includes('--if-possible')) { fs.rmSync(lock, { force: true }); process.exit(r.status ?? 1); }
        console.warn('the portal could not be built; serving the API without it (run `npm run build:portal`)');
        break;
      }
    }
  } finally {
    fs.rmSync(lock, { force: true });
  }
}
