import fs from 'node:fs';
import zlib from 'node:zlib';

/**
 * A NIfTI-1 volume as the seed needs it: voxel values (scaled by scl_slope/scl_inter), the
 * grid, and the voxel-to-world affine (RAS+, millimetres) from the sform, or the pixdims when
 * there is none. Enough to cut axial slabs and give them DICOM geometry; not a general reader.
 */
export interface NiftiVolume {
  dims: [number, number, number];
  spacing: [number, number, number];
  /** Rows of the 3×4 voxel (i, j, k) → RAS world matrix. */
  affine: [number[], number[], number[]];
  /** Voxel (i, j, k) at i + nx·(j + ny·k). */
  data: Float32Array;
}

const READERS: Record<number, { bytes: number; read: (b: Buffer, at: number) => number }> = {
  2: { bytes: 1, read: (b, at) => b.readUInt8(at) },
  4: { bytes: 2, read: (b, at) => b.readInt16LE(at) },
  8: { bytes: 4, read: (b, at) => b.readInt32LE(at) },
  16: { bytes: 4, read: (b, at) => b.readFloatLE(at) },
  256: { bytes: 1, read: (b, at) => b.readInt8(at) },
  512: { bytes: 2, read: (b, at) => b.readUInt16LE(at) },
};

export function readNifti(file: string): NiftiVolume {
  const raw = fs.readFileSync(file);
  const b = file.endsWith('.gz') ? zlib.gunzipSync(raw) : raw;
  if (b.readInt32LE(0) !== 348) throw new Error(`${file}: not a little-endian NIfTI-1 file`);
  const ndim = b.readInt16LE(40);
  if (ndim < 3) throw new Error(`${file}: ${ndim}-D, a volume needs 3`);
  const dims: [number, number, number] = [b.readInt16LE(42), b.readInt16LE(44), b.readInt16LE(46)];
  const datatype = b.readInt16LE(70);
  const reader = READERS[datatype];
  if (!reader) throw new Error(`${file}: NIfTI datatype ${datatype} is not supported`);
  const spacing: [number, number, number] = [b.readFloatLE(80), b.readFloatLE(84), b.readFloatLE(88)];
  const voxOffset = Math.round(b.readFloatLE(108));
  const slope = b.readFloatLE(112) || 1;
  const inter = b.readFloatLE(116) || 0;
  const sform = b.readInt16LE(254);
  const affine: [number[], number[], number[]] = sform > 0
    ? [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => b.readFloatLE(280 + 16 * r + 4 * c))) as [number[], number[], number[]]
    : [[spacing[0], 0, 0, 0], [0, spacing[1], 0, 0], [0, 0, spacing[2], 0]];
  const n = dims[0] * dims[1] * dims[2];
  if (voxOffset + n * reader.bytes > b.length) throw new Error(`${file}: the voxel data is shorter than the header says`);
  const data = new Float32Array(n);
  for (let v = 0; v < n; v++) data[v] = reader.read(b, voxOffset + v * reader.bytes) * slope + inter;
  return { dims, spacing, affine, data };
}

/** One axial plane of a volume, laid out as DICOM rows and columns, with its patient geometry (LPS). */
export interface AxialSlice {
  rows: number;
  columns: number;
  /** Row-major, `rows` × `columns`. */
  values: Float32Array;
  imagePositionPatient: [number, number, number];
  imageOrientationPatient: [number, number, number, number, number, number];
  /** DICOM order: spacing between rows, then between columns. */
  pixelSpacing: [number, number];
  sliceThickness: number;
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/**
 * Plane k as a DICOM image. NIfTI's world is RAS, DICOM's LPS (x and y negated). An in-plane
 * axis pointing to the patient's right or front is read backwards, so that, as radiologists
 * expect, columns run towards the patient's left and rows towards the back.
 */
export function axialSlice(vol: NiftiVolume, k: number): AxialSlice {
  const [nx, ny] = vol.dims;
  const A = vol.affine;
  const lps = (c: number) => [-A[0]![c]!, -A[1]![c]!, A[2]![c]!];
  const unit = (v: number[]) => { const n = Math.hypot(...v) || 1; return v.map((x) => x / n); };
  const di = lps(0), dj = lps(1);
  const dominant = (v: number[]) => v.reduce((best, x) => (Math.abs(x) > Math.abs(best) ? x : best), 0);
  const flipI = dominant(di) < 0, flipJ = dominant(dj) < 0;
  const rowDir = unit(flipI ? di.map((x) => -x) : di);
  const colDir = unit(flipJ ? dj.map((x) => -x) : dj);
  const i0 = flipI ? nx - 1 : 0, j0 = flipJ ? ny - 1 : 0;
  const world = [0, 1, 2].map((r) => A[r]![0]! * i0 + A[r]![1]! * j0 + A[r]![2]! * k + A[r]![3]!);
  const values = new Float32Array(nx * ny);
  const plane = k * nx * ny;
  for (let r = 0; r < ny; r++) {
    const j = flipJ ? ny - 1 - r : r;
    for (let c = 0; c < nx; c++) values[r * nx + c] = vol.data[plane + j * nx + (flipI ? nx - 1 - c : c)]!;
  }
  return {
    rows: ny, columns: nx, values,
    imagePositionPatient: [round(-world[0]!), round(-world[1]!), round(world[2]!)],
    imageOrientationPatient: [...rowDir, ...colDir].map(round) as AxialSlice['imageOrientationPatient'],
    pixelSpacing: [round(Math.hypot(...lps(1))), round(Math.hypot(...lps(0)))],
    sliceThickness: round(Math.hypot(...lps(2))),
  };
}
