/**
 * 64-bit hash codes. Bit i of the bigint (value 2^i) is set when model output i is
 * > 0. The hex form is the bigint in 16 lowercase hex digits, most significant first,
 * so output 63 is the top bit of the first digit and output 0 the low bit of the last.
 */

export const CODE_BITS = 64;

export function outputsToCode(out: ArrayLike<number>, offset = 0): bigint {
  let lo = 0, hi = 0;
  for (let i = 0; i < 32; i++) {
    if (out[offset + i] > 0) lo |= 1 << i;
    if (out[offset + 32 + i] > 0) hi |= 1 << i;
  }
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function codeToHex(code: bigint): string {
  return code.toString(16).padStart(16, '0');
}

export function hexToCode(hex: string): bigint {
  if (!/^[0-9a-fA-F]{16}$/.test(hex)) throw new RangeError(`expected 16 hex digits, got ${JSON.stringify(hex)}`);
  return BigInt(`0x${hex}`);
}

export function hamming(a: bigint, b: bigint): number {
  let x = a ^ b;
  let n = 0;
  while (x) {
    x &= x - 1n;
    n++;
  }
  return n;
}
