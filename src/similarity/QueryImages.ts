import crypto from 'node:crypto';

/**
 * Query images uploaded for `similarImages` (`POST /query-images`). What is kept is not the
 * image: it is hashed on arrival and only its 64-bit code stays, for TTL_MS, under an
 * unguessable id bound to whoever uploaded it; the bytes are gone when the upload request ends.
 */
export class QueryImages {
  static readonly TTL_MS = 10 * 60_000;
  private static readonly MAX_ENTRIES = 10_000;
  /**
   * Live uploads one caller holds at most (a search is one upload; ten minutes of them): past it
   * their own oldest goes. Without it the bound above was everyone's, and one caller's flood of
   * tiny uploads pushed out every other caller's query image before its ten minutes.
   */
  static readonly MAX_PER_CALLER = 100;
  private readonly entries = new Map<string, { code: bigint; owner: string | null; caller: string; expires: number }>();
  private readonly held = new Map<string, number>();

  /**
   * `caller` is whose quota the upload counts against: the owner when signed in, else who sent it
   * (its address), since anonymous uploads share the owner null.
   */
  put(code: bigint, owner: string | null, now = Date.now(), caller: string = owner ?? 'anonymous'): { id: string; expiresAt: Date } {
    this.sweep(now);
    if ((this.held.get(caller) ?? 0) >= QueryImages.MAX_PER_CALLER) {
      for (const [id, e] of this.entries) if (e.caller === caller) { this.remove(id); break; }
    }
    // Bounded: the oldest codes go first (Map order = insertion order).
    while (this.entries.size >= QueryImages.MAX_ENTRIES) this.remove(this.entries.keys().next().value!);
    const id = crypto.randomBytes(18).toString('base64url');
    const expires = now + QueryImages.TTL_MS;
    this.entries.set(id, { code, owner, caller, expires });
    this.held.set(caller, (this.held.get(caller) ?? 0) + 1);
    return { id, expiresAt: new Date(expires) };
  }

  /** The code of an upload made by `owner` that has not expired; null otherwise (someone else's is as absent). */
  get(id: string, owner: string | null, now = Date.now()): bigint | null {
    const entry = this.entries.get(id);
    if (!entry || entry.expires <= now || entry.owner !== owner) return null;
    return entry.code;
  }

  private remove(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    const n = (this.held.get(e.caller) ?? 1) - 1;
    if (n > 0) this.held.set(e.caller, n); else this.held.delete(e.caller);
  }

  private sweep(now: number): void {
    for (const [id, e] of this.entries) {
      if (e.expires > now) break; // insertion order is expiry order
      this.remove(id);
    }
  }
}
