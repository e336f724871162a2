/**
 * Just enough of the WebAssembly binary format to emit the Hamming scan module
 * (no toolchain or npm package needed; the bytes are produced at load time).
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
const EMPTY_BLOCK = 0x40;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function str(s: string): number[] {
  const b = [...Buffer.from(s, 'utf8')];
  return [...uleb(b.length), ...b];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** Instructions, as byte arrays to splice into a function body. */
export const op = {
  block: () => [0x02, EMPTY_BLOCK],
  loop: () => [0x03, EMPTY_BLOCK],
  if: () => [0x04, EMPTY_BLOCK],
  else: () => [0x05],
  end: () => [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  return: () => [0x0f],
  call: (fn: number) => [0x10, ...uleb(fn)],
  localGet: (i: number) => [0x20, ...uleb(i)],
  localSet: (i: number) => [0x21, ...uleb(i)],
  localTee: (i: number) => [0x22, ...uleb(i)],
  globalGet: (i: number) => [0x23, ...uleb(i)],
  globalSet: (i: number) => [0x24, ...uleb(i)],
  i32Load: (offset = 0) => [0x28, 2, ...uleb(offset)],
  i64Load: (offset = 0) => [0x29, 3, ...uleb(offset)],
  i32Load8u: (offset = 0) => [0x2d, 0, ...uleb(offset)],
  i32Store: (offset = 0) => [0x36, 2, ...uleb(offset)],
  i64Store: (offset = 0) => [0x37, 3, ...uleb(offset)],
  i32Const: (v: number) => [0x41, ...sleb(v | 0)],
  i32Eqz: () => [0x45],
  i32Eq: () => [0x46],
  i32LtS: () => [0x48],
  i32LtU: () => [0x49],
  i32GtS: () => [0x4a],
  i32GtU: () => [0x4b],
  i32LeS: () => [0x4c],
  i32LeU: () => [0x4d],
  i32GeU: () => [0x4f],
  i32Add: () => [0x6a],
  i32Sub: () => [0x6b],
  i32And: () => [0x71],
  i32Or: () => [0x72],
  i32Shl: () => [0x74],
  i32ShrU: () => [0x76],
  i64Popcnt: () => [0x7b],
  i64Xor: () => [0x85],
  i32WrapI64: () => [0xa7],
};

export interface FuncDef {
  name?: string; // exported under this name when set
  params: number[];
  results: number[];
  locals: number[];
  body: number[][];
}

export interface ImportFunc {
  module: string;
  name: string;
  params: number[];
  results: number[];
}

export interface GlobalDef {
  name: string;
  init: number;
}

/**
 * A module with imported functions (indices 0..imports-1), one exported memory
 * named "mem", mutable exported i32 globals, and the given functions.
 */
export function assemble(opts: { imports: ImportFunc[]; funcs: FuncDef[]; globals: GlobalDef[]; memoryPages: number }): Uint8Array {
  const types: number[][] = [];
  const typeIndex = (params: number[], results: number[]): number => {
    const t = [0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))];
    const key = t.join(',');
    const found = types.findIndex((x) => x.join(',') === key);
    if (found >= 0) return found;
    types.push(t);
    return types.length - 1;
  };
  const importEntries = opts.imports.map((im) => [...str(im.module), ...str(im.name), 0x00, ...uleb(typeIndex(im.params, im.results))]);
  const funcTypes = opts.funcs.map((f) => uleb(typeIndex(f.params, f.results)));
  const section = (id: number, payload: number[]) => [id, ...uleb(payload.length), ...payload];

  const globals = opts.globals.map((g) => [I32, 0x01, ...op.i32Const(g.init), 0x0b]);
  const exportEntries: number[][] = [[...str('mem'), 0x02, 0x00]];
  opts.funcs.forEach((f, i) => {
    if (f.name) exportEntries.push([...str(f.name), 0x00, ...uleb(opts.imports.length + i)]);
  });
  opts.globals.forEach((g, i) => exportEntries.push([...str(g.name), 0x03, ...uleb(i)]));

  const bodies = opts.funcs.map((f) => {
    const locals = vec(f.locals.map((t) => [0x01, t]));
    const code = [...locals, ...f.body.flat(), 0x0b];
    return [...uleb(code.length), ...code];
  });

  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec(importEntries)),
    ...section(3, vec(funcTypes)),
    ...section(5, vec([[0x00, ...uleb(opts.memoryPages)]])),
    ...section(6, vec(globals)),
    ...section(7, vec(exportEntries)),
    ...section(10, vec(bodies)),
  ];
  return Uint8Array.from(bytes);
}
