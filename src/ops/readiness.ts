import type { MikroORM } from '@mikro-orm/core';
import type { BlobStore } from '../storage/store.js';

/** One dependency `/ready` checks; `check` rejects when it is not usable. */
export interface Dependency {
  name: string;
  check(): Promise<void>;
}

/** How long one check may take before the dependency counts as down (a hung database must not hang /ready). */
const CHECK_TIMEOUT_MS = 2000;

export function databaseDependency(orm: MikroORM): Dependency {
  return { name: 'database', check: async () => { await orm.em.getConnection().execute('select 1'); } };
}

/**
 * A blob root is usable when a file can be created, written and removed in it: `access(W_OK)`
 * alone would pass on a full disk.
 */
/** The blob store can take a write (local roots) or answers for both buckets (S3). */
export function blobStoreDependency(store: Pick<BlobStore, 'check'>): Dependency {
  return { name: 'storage', check: () => store.check() };
}

export function redisDependency(ping: () => Promise<void>): Dependency {
  return { name: 'redis', check: ping };
}

export interface Readiness { ready: boolean; checks: Record<string, 'ok' | 'failed'>; failed: string[] }

/** Runs every check at once, each bounded by a timeout. */
export async function checkReadiness(dependencies: Dependency[], onFailure: (name: string, err: unknown) => void): Promise<Readiness> {
  const results = await Promise.all(dependencies.map(async (d) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([d.check(), new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS); })]);
      return [d.name, 'ok'] as const;
    } catch (err) {
      onFailure(d.name, err);
      return [d.name, 'failed'] as const;
    } finally {
      clearTimeout(timer);
    }
  }));
  const failed = results.filter(([, r]) => r === 'failed').map(([n]) => n);
  return { ready: failed.length === 0, checks: Object.fromEntries(results), failed };
}
