/**
 * The WebAssembly kernel behind HashIndex: one pass over packed 64-bit codes that
 * keeps every code whose Hamming distance can still be within the k nearest.
 *
 * It maintains a histogram of kept distances and the running k-th smallest distance
 * `thr`. The host keeps the slots in ascending id order, so a code at distance thr that
 * comes once k codes within thr are kept has a larger id than all of them and cannot
 * be among the k nearest by (distance, id): a code is kept when its distance ≤ `lim`,
 * which is thr while fewer than k are kept and thr − 1 after. The ties at the final
 * k-th distance that survive are then at most k (not every code repeated there: a
 * seeded or real archive repeats codes tens of thousands of times), and the scan ends
 * early once k codes at distance 0 are kept (lim < 0). The hot loop does four
 * xor+popcnt per iteration with a single branch; only codes within lim take the slow
 * path. Slots marked in the dead bitmap (removed, awaiting compaction) are skipped.
 *
 * Memory layout (bytes): [0, 260) histogram of 65 i32; codes/ids/dead/mask/candidate
 * regions at offsets the host sets through globals. Candidates are (slot u32, distance
 * u32) pairs. scan() returns the index it stopped at: `end` when done, or an earlier
 * index when the candidate buffer is full, so the host can enlarge it and resume.
 */
import { I32, I64, assemble, op, type FuncDef } from './assembler';

export const HIST_BYTES = 65 * 4;

export const G = {
  codesPtr: 0,
  idsPtr: 1,
  candPtr: 2,
  candCap: 3,
  maskPtr: 4,
  maskLen: 5,
  /** 0: accept all, 1: byte mask indexed by id, 2: imported accept(id) */
  mode: 6,
  k: 7,
  thr: 8,
  c: 9,
  count: 10,
  /** Largest distance still kept (signed: −1 once k codes at distance 0 are kept). */
  lim: 11,
  /** Bitmap of dead slots (bit slot&7 of byte slot>>3), read only while holes ≠ 0. */
  deadPtr: 12,
  holes: 13,
} as const;

const GLOBAL_NAMES = Object.keys(G) as (keyof typeof G)[];

// Function indices: 0 is the imported accept(id); then the module's own.
const F_SCAN = 1, F_VISIT = 2, F_COMPACT = 3;

function scanFn(): FuncDef {
  // params: q i64 (0), start (1), end (2); locals: i (3), p (4), lim (5), d0..d3 (6..9)
  const [q, start, end, i, p, lim] = [0, 1, 2, 3, 4, 5];
  const d = (j: number) => 6 + j;
  const dist = (offset: number) => [op.localGet(p), op.i64Load(offset), op.localGet(q), op.i64Xor(), op.i64Popcnt(), op.i32WrapI64()];
  const visitOrReturn = (j: number) => [
    op.localGet(i), ...(j ? [op.i32Const(j), op.i32Add()] : []), op.localGet(d(j)), op.call(F_VISIT),
    op.if(), op.localGet(i), ...(j ? [op.i32Const(j), op.i32Add()] : []), op.return(), op.end(),
  ];
  // After visits: reload lim; below 0 nothing further can be kept, so the scan is done.
  const reloadLimOrFinish = [op.globalGet(G.lim), op.localTee(lim), op.i32Const(0), op.i32LtS(), op.if(), op.localGet(end), op.return(), op.end()];
  return {
    name: 'scan',
    params: [I64, I32, I32],
    results: [I32],
    locals: [I32, I32, I32, I32, I32, I32, I32],
    body: [
      op.localGet(start), op.localSet(i),
      op.globalGet(G.codesPtr), op.localGet(start), op.i32Const(3), op.i32Shl(), op.i32Add(), op.localSet(p),
      op.globalGet(G.lim), op.localSet(lim),
      op.block(), op.loop(),
      op.localGet(i), op.i32Const(4), op.i32Add(), op.localGet(end), op.i32GtU(), op.brIf(1),
      ...[0, 1, 2, 3].flatMap((j) => [...dist(8 * j), op.localSet(d(j))]),
      op.localGet(d(0)), op.localGet(lim), op.i32LeS(),
      ...[1, 2, 3].flatMap((j) => [op.localGet(d(j)), op.localGet(lim), op.i32LeS(), op.i32Or()]),
      op.if(),
      ...[0, 1, 2, 3].flatMap(visitOrReturn),
      ...reloadLimOrFinish,
      op.end(),
      op.localGet(i), op.i32Const(4), op.i32Add(), op.localSet(i),
      op.localGet(p), op.i32Const(32), op.i32Add(), op.localSet(p),
      op.br(0),
      op.end(), op.end(),
      op.block(), op.loop(),
      op.localGet(i), op.localGet(end), op.i32GeU(), op.brIf(1),
      ...dist(0), op.localTee(d(0)), op.localGet(lim), op.i32LeS(),
      op.if(),
      ...visitOrReturn(0),
      ...reloadLimOrFinish,
      op.end(),
      op.localGet(i), op.i32Const(1), op.i32Add(), op.localSet(i),
      op.localGet(p), op.i32Const(8), op.i32Add(), op.localSet(p),
      op.br(0),
      op.end(), op.end(),
      op.localGet(end),
    ],
  };
}

function visitFn(): FuncDef {
  // params: slot (0), d (1); locals: id (2), a (3), thr (4), c (5). Returns 1 when the buffer is full.
  const [slot, d, id, a, thr, c] = [0, 1, 2, 3, 4, 5];
  const reject = [op.if(), op.i32Const(0), op.return(), op.end()];
  return {
    params: [I32, I32],
    results: [I32],
    locals: [I32, I32, I32, I32],
    body: [
      // lim may have dropped since the caller's group test.
      op.localGet(d), op.globalGet(G.lim), op.i32GtS(), ...reject,
      // A dead slot (removed; its bit set until the host compacts).
      op.globalGet(G.holes),
      op.if(),
      op.globalGet(G.deadPtr), op.localGet(slot), op.i32Const(3), op.i32ShrU(), op.i32Add(), op.i32Load8u(),
      op.i32Const(1), op.localGet(slot), op.i32Const(7), op.i32And(), op.i32Shl(), op.i32And(), ...reject,
      op.end(),
      op.globalGet(G.mode),
      op.if(),
      op.globalGet(G.idsPtr), op.localGet(slot), op.i32Const(2), op.i32Shl(), op.i32Add(), op.i32Load(), op.localSet(id),
      op.globalGet(G.mode), op.i32Const(1), op.i32Eq(),
      op.if(),
      op.localGet(id), op.globalGet(G.maskLen), op.i32GeU(), ...reject,
      op.globalGet(G.maskPtr), op.localGet(id), op.i32Add(), op.i32Load8u(), op.i32Eqz(), ...reject,
      op.else(),
      op.localGet(id), op.call(0), op.i32Eqz(), ...reject,
      op.end(),
      op.end(),
      op.globalGet(G.count), op.globalGet(G.candCap), op.i32Eq(),
      op.if(),
      op.call(F_COMPACT),
      // Still more than half full: let the host grow the buffer rather than compacting again and again.
      op.globalGet(G.count), op.globalGet(G.candCap), op.i32Const(1), op.i32ShrU(), op.i32GtU(),
      op.if(), op.i32Const(1), op.return(), op.end(),
      op.end(),
      op.globalGet(G.candPtr), op.globalGet(G.count), op.i32Const(3), op.i32Shl(), op.i32Add(), op.localTee(a),
      op.localGet(slot), op.i32Store(0),
      op.localGet(a), op.localGet(d), op.i32Store(4),
      op.globalGet(G.count), op.i32Const(1), op.i32Add(), op.globalSet(G.count),
      op.localGet(d), op.i32Const(2), op.i32Shl(), op.localTee(a), op.localGet(a), op.i32Load(), op.i32Const(1), op.i32Add(), op.i32Store(),
      op.globalGet(G.c), op.i32Const(1), op.i32Add(), op.localSet(c),
      op.globalGet(G.thr), op.localSet(thr),
      // Lower thr while the codes strictly below it already number k.
      op.block(), op.loop(),
      op.localGet(c), op.localGet(thr), op.i32Const(2), op.i32Shl(), op.i32Load(), op.i32Sub(), op.globalGet(G.k), op.i32LtU(), op.brIf(1),
      op.localGet(c), op.localGet(thr), op.i32Const(2), op.i32Shl(), op.i32Load(), op.i32Sub(), op.localSet(c),
      op.localGet(thr), op.i32Const(1), op.i32Sub(), op.localSet(thr),
      op.br(0),
      op.end(), op.end(),
      op.localGet(c), op.globalSet(G.c),
      op.localGet(thr), op.globalSet(G.thr),
      // Once k are kept within thr, a later code at thr has a larger id than all of them (slots are in id order).
      op.localGet(thr), op.localGet(c), op.globalGet(G.k), op.i32GeU(), op.i32Sub(), op.globalSet(G.lim),
      op.i32Const(0),
    ],
  };
}

function compactFn(): FuncDef {
  // locals: read (0), write (1), stop (2)
  const [rd, wr, stop] = [0, 1, 2];
  return {
    params: [],
    results: [],
    locals: [I32, I32, I32],
    body: [
      op.globalGet(G.candPtr), op.localTee(rd), op.localSet(wr),
      op.localGet(rd), op.globalGet(G.count), op.i32Const(3), op.i32Shl(), op.i32Add(), op.localSet(stop),
      op.block(), op.loop(),
      op.localGet(rd), op.localGet(stop), op.i32GeU(), op.brIf(1),
      op.localGet(rd), op.i32Load(4), op.globalGet(G.thr), op.i32LeU(),
      op.if(),
      op.localGet(wr), op.localGet(rd), op.i64Load(), op.i64Store(),
      op.localGet(wr), op.i32Const(8), op.i32Add(), op.localSet(wr),
      op.end(),
      op.localGet(rd), op.i32Const(8), op.i32Add(), op.localSet(rd),
      op.br(0),
      op.end(), op.end(),
      op.localGet(wr), op.globalGet(G.candPtr), op.i32Sub(), op.i32Const(3), op.i32ShrU(), op.globalSet(G.count),
    ],
  };
}

/** The slice of the WebAssembly JS API used here (lib ES2023 does not declare it). */
export interface WasmGlobal {
  value: number;
}
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: object | undefined;

export function scanModuleBytes(): Uint8Array {
  return assemble({
    imports: [{ module: 'env', name: 'accept', params: [I32], results: [I32] }],
    funcs: [scanFn(), visitFn(), compactFn()],
    globals: GLOBAL_NAMES.map((name) => ({ name, init: 0 })),
    memoryPages: 1,
  });
}

export interface ScanInstance {
  memory: WasmMemory;
  scan(q: bigint, start: number, end: number): number;
  globals: Record<keyof typeof G, WasmGlobal>;
}

export function instantiateScan(accept: (id: number) => number): ScanInstance {
  compiled ??= new WA.Module(scanModuleBytes());
  const ex = new WA.Instance(compiled, { env: { accept } }).exports;
  const globals = {} as Record<keyof typeof G, WasmGlobal>;
  for (const n of GLOBAL_NAMES) globals[n] = ex[n] as WasmGlobal;
  return { memory: ex.mem as WasmMemory, scan: ex.scan as ScanInstance['scan'], globals };
}
