/** A small seeded PRNG (sfc32): the same seed gives the same archive on every machine. */
export class Random {
  private a: number; private b: number; private c: number; private d: number;

  constructor(seed: number | string) {
    let h = 1779033703 ^ String(seed).length;
    for (const ch of String(seed)) {
      h = Math.imul(h ^ ch.charCodeAt(0), 3432918353);
      h = (h << 13) | (h >>> 19);
    }
    const next = () => {
      h = Math.imul(h ^ (h >>> 16), 2246822507);
      h = Math.imul(h ^ (h >>> 13), 3266489909);
      return (h ^= h >>> 16) >>> 0;
    };
    this.a = next(); this.b = next(); this.c = next(); this.d = next();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    this.a >>>= 0; this.b >>>= 0; this.c >>>= 0; this.d >>>= 0;
    let t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    t = (t + this.d) | 0;
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks by weight from [item, weight] pairs. */
  weighted<T>(pairs: readonly (readonly [T, number])[]): T {
    const total = pairs.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [item, w] of pairs) if ((r -= w) < 0) return item;
    return pairs[pairs.length - 1]![0];
  }

  normal(mean: number, sd: number): number {
    const u = Math.max(this.next(), 1e-12);
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  hex(chars: number): string {
    let s = '';
    while (s.length < chars) s += this.uint32().toString(16).padStart(8, '0');
    return s.slice(0, chars);
  }

  /** A UID under the 2.25 (UUID-derived) root, as DICOM allows for generated identifiers. */
  uid(): string {
    const n = (BigInt(this.uint32()) << 96n) | (BigInt(this.uint32()) << 64n) | (BigInt(this.uint32()) << 32n) | BigInt(this.uint32());
    return `2.25.${n}`;
  }

  /**
   * Splits `total` into `bins` positive parts with random weights, summing exactly to `total`,
   * so generated archives hit the paper's totals.
   */
  split(total: number, bins: number, spread = 0.8, bias?: (bin: number) => number): number[] {
    if (bins <= 0) return [];
    if (total < bins) throw new Error(`cannot split ${total} into ${bins} positive parts`);
    const weights = Array.from({ length: bins }, (_, i) => Math.exp(this.normal(0, spread)) * (bias ? bias(i) : 1));
    const sum = weights.reduce((a, b) => a + b, 0);
    const rest = total - bins;
    const parts = weights.map((w) => 1 + Math.floor((rest * w) / sum));
    let left = total - parts.reduce((a, b) => a + b, 0);
    while (left > 0) {
      parts[this.int(0, bins - 1)]! += 1;
      left--;
    }
    return parts;
  }
}
