import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
export { unzip } from '../support/zip.js';


/** Every regular file under `dir` (none when it does not exist). */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile()).map((d) => path.join(d.parentPath ?? (d as any).path, d.name));
}

let dciodvfyInstalled: boolean | undefined;
/** Whether dciodvfy runs here; asked once per process (the zip test asks for every file it reads). */
export function hasDciodvfy(): boolean {
  if (dciodvfyInstalled === undefined) {
    try { execFileSync('dciodvfy', [], { stdio: 'ignore' }); dciodvfyInstalled = true; } catch (err) { dciodvfyInstalled = (err as NodeJS.ErrnoException).code !== 'ENOENT'; }
  }
  return dciodvfyInstalled;
}

/**
 * dciodvfy's Error lines for a file (it exits non-zero whenever it reports one). Run without
 * blocking: the app under test serves from this same process and must keep its sockets alive.
 */
export function dciodvfyErrors(file: string): Promise<string[]> {
  return new Promise((resolve) => {
    execFile('dciodvfy', [file], { encoding: 'utf8' }, (_err, stdout, stderr) => {
      resolve([...new Set(`${stdout}${stderr}`.split('\n').filter((l) => l.startsWith('Error')).map((l) => l.trim()))]);
    });
  });
}
