import crypto from 'node:crypto';

/**
 * Query images uploaded for `similarImages` (`POST /query-images`). What is kept is not the
 * image: it is hashed on arrival and only its 64-bit code stays, for TTL_MS, under an
 * unguessable id bound to whoever uploaded it; the bytes are gone when the upload request ends.
 */
export class QueryImages {
  static readonly TTL_MS = 10 * 60_000;
  private static readonly MAX_ENTRIES = 10_000;
  private readonly entries = new Map<string, { code: bigint; owner: string | null; expires: number }>();

  put(code: bigint, owner: string | null, now = Date.now()): { id: string; expiresAt: Date } {
    this.sweep(now);
    // Bounded: the oldest codes go first (Map order = insertion order).
    while (this.entries.size >= QueryImages.MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    const id = crypto.randomBytes(18).toString('base64url');
    const expires = now + QueryImages.TTL_MS;
    this.entries.set(id, { code, owner, expires });
    return { id, expiresAt: new Date(expires) };
  }

  /** The code of an upload made by `owner` that has not expired; null otherwise (someone else's is as absent). */
  get(id: string, owner: string | null, now = Date.now()): bigint | null {
    const entry = this.entries.get(id);
    if (!entry || entry.expires <= now || entry.owner !== owner) return null;
    return entry.code;
  }

  private sweep(now: number): void {
    for (const [id, e] of this.entries) {
      if (e.expires > now) break; // insertion order is expiry order
      this.entries.delete(id);
    }
  }
}
