import type { EntityManager } from '@mikro-orm/knex';
import DataLoader from 'dataloader';
import { FileCuration } from '../entities/FileCuration.js';

// One loader per request EntityManager (each request forks its own), so `submission.files`
// with curation fields costs one query for all files instead of one per file.
const loaders = new WeakMap<EntityManager, DataLoader<number, FileCuration | null>>();

export function fileCurationLoader(em: EntityManager): DataLoader<number, FileCuration | null> {
  let l = loaders.get(em);
  if (!l) {
    l = new DataLoader(async (ids) => {
      const rows = await em.find(FileCuration, { file: { $in: [...ids] } });
      const byFile = new Map(rows.map((r) => [r.file.id, r]));
      return ids.map((id) => byFile.get(id) ?? null);
    });
    loaders.set(em, l);
  }
  return l;
}
