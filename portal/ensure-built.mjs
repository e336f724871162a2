// `npm start` and the browser tests call this: builds portal/dist when it is missing or older
// than any of its sources, and does nothing otherwise (a second start costs a few stat calls).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const built = path.join(here, 'dist', 'index.html');

function newest(p) {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...fs.readdirSync(p).map((f) => newest(path.join(p, f))));
}

const sources = [path.join(here, 'src'), path.join(here, 'index.html'), path.join(here, 'vite.config.mjs'), path.join(here, '..', 'package-lock.json')];
const stale = !fs.existsSync(built) || sources.some((s) => fs.existsSync(s) && newest(s) > fs.statSync(built).mtimeMs);
if (stale) {
  console.log('building the portal (portal/dist)…');
  const r = spawnSync('npm', ['run', '--silent', 'build:portal'], { cwd: path.join(here, '..'), stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
