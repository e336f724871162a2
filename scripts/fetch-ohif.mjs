// Fetches the prebuilt OHIF v3 viewer (@ohif/app's dist) for /viewer: `npm pack` from the npm
// registry, the tarball's SHA-512 checked against the integrity the registry publishes for that
// version, then only package/dist unpacked into vendor/ohif/<version> (git-ignored, never
// committed). @ohif/app's own npm install fails (it is a monorepo app), so nothing else of it is
// used. Idempotent: a verified copy is kept. `--optional` (postinstall) warns instead of failing.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const OHIF_VERSION = '3.13.2';
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const target = path.join(root, 'vendor', 'ohif', OHIF_VERSION);
const marker = path.join(target, '.verified');
const optional = process.argv.includes('--optional');

function main() {
  const spec = `@ohif/app@${OHIF_VERSION}`;
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const published = execFileSync(npm, ['view', spec, 'dist.integrity'], { encoding: 'utf8' }).trim();
  if (!published.startsWith('sha512-')) throw new Error(`the registry publishes no sha512 integrity for ${spec}`);
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').trim() === published) {
    console.log(`OHIF ${OHIF_VERSION}: verified copy in ${path.relative(root, target)}`);
    return;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ohif-'));
  try {
    const [{ filename }] = JSON.parse(execFileSync(npm, ['pack', spec, '--json', '--pack-destination', tmp], { encoding: 'utf8', maxBuffer: 64 << 20 }));
    const tarball = path.join(tmp, filename);
    const actual = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tarball)).digest('base64')}`;
    if (actual !== published) throw new Error(`${spec}: tarball integrity ${actual} differs from the registry's ${published}`);
    fs.rmSync(target, { recursive: true, force: true });
    fs.mkdirSync(target, { recursive: true });
    execFileSync('tar', ['xzf', tarball, '-C', target, '--strip-components=2', 'package/dist']);
    if (!fs.existsSync(path.join(target, 'index.html'))) throw new Error(`${spec}: no dist/index.html in the package`);
    fs.writeFileSync(marker, `${published}\n`);
    console.log(`OHIF ${OHIF_VERSION}: ${published} verified, unpacked into ${path.relative(root, target)}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  if (!optional) throw err;
  console.warn(`OHIF viewer not fetched (${err.message}); /viewer answers 503 until \`npm run viewer:fetch\` succeeds`);
}
