// Seeded randomness for tests: every random input comes from a seed that a failure prints, so
// a failing run can be repeated exactly (OBIA_TEST_SEED=<seed> node test/run.mjs <file>).

/** mulberry32: small, fast, and the same sequence on every machine for a given seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Random {
  seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  bytes(n: number): Uint8Array;
}

export function seededRandom(seed = Number(process.env.OBIA_TEST_SEED) || (Date.now() % 2 ** 31)): Random {
  const next = mulberry32(seed);
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    bytes: (n) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256)),
  };
}

/**
 * Runs `fn` with a seeded generator; if it fails, the error names the seed and how to repeat the
 * run, whatever the assertion said.
 */
export async function withSeed<T>(fn: (random: Random) => Promise<T> | T, seed?: number): Promise<T> {
  const random = seededRandom(seed);
  try {
    return await fn(random);
  } catch (e) {
    const note = ` [random seed ${random.seed}: repeat with OBIA_TEST_SEED=${random.seed}]`;
    if (e instanceof Error) {
      e.message += note;
      if (e.stack) e.stack = e.stack.replace(/^[^\n]*/, (first) => first + note);
      throw e;
    }
    throw new Error(String(e) + note);
  }
}
