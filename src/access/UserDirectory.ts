import type { EntityManager } from '@mikro-orm/knex';
import type { Principal } from '../auth/Principal.js';

/** How long a recorded sighting stays fresh: within it, a request costs no write. */
const FRESH_MS = 5 * 60_000;
const MAX_CACHED = 50_000;

/**
 * Records users on first sight and keeps their claims and last visit current. One per app; a
 * small in-memory "seen recently" map keeps the upsert off the hot path, so a busy user costs one
 * write every few minutes (or when their claims change), not one per request.
 */
export class UserDirectory {
  private readonly seen = new Map<string, { at: number; claims: string }>();
  private readonly writing = new Map<string, Promise<void>>();

  async record(em: EntityManager, user: Principal | null, now = Date.now()): Promise<void> {
    if (!user) return;
    const claims = JSON.stringify([user.name, user.email, user.institution, user.roles]);
    const last = this.seen.get(user.id);
    if (last && last.claims === claims && now - last.at < FRESH_MS) return;
    // A user's first requests often come together (a portal page's queries, a burst of
    // subscriptions): they share one write instead of racing upserts of one new row.
    const flight = `${user.id}\n${claims}`;
    const pending = this.writing.get(flight);
    if (pending) return pending;
    const write = this.upsert(em, user, claims, now).finally(() => this.writing.delete(flight));
    this.writing.set(flight, write);
    return write;
  }

  private async upsert(em: EntityManager, user: Principal, claims: string, now: number): Promise<void> {
    const at = em.getPlatform().processDateProperty(new Date(now));
    await em.getKnex()('user_account')
      .insert({ sub: user.id, name: user.name, email: user.email, institution: user.institution, roles: JSON.stringify(user.roles), first_seen: at, last_seen: at })
      .onConflict('sub')
      .merge(['name', 'email', 'institution', 'roles', 'last_seen']);
    if (this.seen.size >= MAX_CACHED) this.seen.clear();
    this.seen.set(user.id, { at: now, claims });
  }
}
