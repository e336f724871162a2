// `npm run ingest -- <dir> --title "…" --disease "…" [--clinical records.csv] [--collection OBIA0007]`
// Offline import for curators (as OBIA receives data): stages every file under <dir> (DICOM
// files and zips) into a new submission in the archive OBIA_DATA_DIR / DATABASE_URL name,
// runs the pipeline with a progress bar on stderr, and ends with one summary line on stdout.
import 'reflect-metadata';
import { SingleBar, Presets } from 'cli-progress';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Role, type Principal } from '../auth/Principal.js';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/orm.js';
import { createIngest, UploadError } from './index.js';

function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile() && !d.name.startsWith('.'))
    .map((d) => path.join((d as any).parentPath ?? (d as any).path, d.name))
    .sort();
}

const STAGING_LANES = 4;

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      title: { type: 'string' }, disease: { type: 'string' }, description: { type: 'string' },
      clinical: { type: 'string' }, collection: { type: 'string' }, submitter: { type: 'string' },
      'no-thumbnails': { type: 'boolean' },
    },
  });
  const dir = positionals[0];
  if (!dir || !values.title || !values.disease) {
    console.error('usage: npm run ingest -- <dir> --title "…" --disease "…" [--clinical records.csv] [--collection OBIA0007]');
    process.exit(2);
  }
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    console.error(`not a directory: ${dir}`);
    process.exit(2);
  }
  const config = loadConfig();
  const orm = await openDatabase(config);
  const ingest = createIngest(orm, config, (m) => process.stderr.write(`${m}\n`), { thumbnails: !values['no-thumbnails'] });
  // Offline imports are a curator's act: the archive, not a remote user, vouches for them.
  const curator: Principal = { id: values.submitter ?? 'curator:cli', name: null, email: null, institution: null, roles: [Role.CURATOR] };
  try {
    const submission = await ingest.submissions.create(curator, {
      title: values.title, disease: values.disease, description: values.description ?? '', collectionAccession: values.collection ?? null,
    });
    const files = filesUnder(dir);
    let received = 0;
    let refused = 0;
    let next = 0;
    const staging = new SingleBar({ stream: process.stderr, format: 'staging [{bar}] {value}/{total} files | {eta_formatted} left' }, Presets.shades_classic);
    staging.start(files.length, 0);
    // A few files at once: staging waits on fsync and the database, not on the CPU.
    await Promise.all(Array.from({ length: Math.min(STAGING_LANES, files.length) }, async () => {
      while (next < files.length) {
        const file = files[next++]!;
        try {
          // Awaited first, then added: `received += await …` would read `received` before the await and lose other lanes' counts.
          const staged = await ingest.submissions.receive(curator, submission.id, fs.createReadStream(file), path.relative(dir, file));
          received += staged.length;
        } catch (err) {
          // One refused file (over the size limit, a zip bomb) must not stop the import of the rest.
          if (!(err instanceof UploadError)) throw err;
          refused++;
          process.stderr.write(`\nrefused ${path.relative(dir, file)}: ${err.message}\n`);
        }
        staging.increment();
      }
    }));
    staging.stop();
    process.stderr.write(`submission ${submission.id}: received ${received} files${refused ? `, refused ${refused}` : ''}\n`);
    if (values.clinical) await ingest.submissions.addClinicalCsv(curator, submission.id, fs.readFileSync(values.clinical, 'utf8'));
    const bar = new SingleBar({ stream: process.stderr, format: 'ingest [{bar}] {value}/{total} files | {eta_formatted} left' }, Presets.shades_classic);
    bar.start(received, 0);
    const summary = await ingest.pipeline.process(submission.id, (done, total) => { bar.setTotal(total); bar.update(done); });
    bar.stop();
    console.log(`submission ${submission.id}: ingested ${summary.ingested}, quarantined ${summary.quarantined}, duplicates ${summary.duplicates}`);
  } finally {
    await orm.close(true);
  }
}

main().catch((err) => { console.error(err instanceof Error ? err.message : err); process.exit(1); });
