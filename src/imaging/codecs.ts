/**
 * Lazy, cached access to the Cornerstone WASM codecs. They are CommonJS emscripten factories,
 * so plain `require` works under our CommonJS output; each is initialised once per process
 * on first use, and concurrent first callers share the same promise.
 */
import { PixelDataError } from './errors';

export interface CodecFrameInfo { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned?: boolean; isUsingColorTransform?: boolean }

interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  readHeader?(): void;
  decode(): void;
  decodeSubResolution?(level: number, layer: number): void;
  getFrameInfo(): CodecFrameInfo;
  getInterleaveMode?(): number;
  getNearLossless?(): number;
  getLastErrorMessage?(): string;
  delete(): void;
}
type DecoderClass = new () => WasmDecoder;
interface EmscriptenModule { [cls: string]: unknown }
type Factory = (moduleArg?: { print?: (s: string) => void; printErr?: (s: string) => void }) => Promise<EmscriptenModule>;

export type CodecName = 'libjpeg-turbo' | 'charls' | 'openjpeg' | 'openjph';

const specs: Record<CodecName, { module: string; cls: string }> = {
  'libjpeg-turbo': { module: '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs', cls: 'JPEGDecoder' },
  charls: { module: '@cornerstonejs/codec-charls/decodewasmjs', cls: 'JpegLSDecoder' },
  openjpeg: { module: '@cornerstonejs/codec-openjpeg/decodewasmjs', cls: 'J2KDecoder' },
  openjph: { module: '@cornerstonejs/codec-openjph/wasmjs', cls: 'HTJ2KDecoder' },
};

interface LoadedCodec { Decoder: DecoderClass; messages: string[] }
const cache = new Map<CodecName, Promise<LoadedCodec>>();

function load(name: CodecName): Promise<LoadedCodec> {
  let p = cache.get(name);
  if (!p) {
    p = (async () => {
      const spec = specs[name];
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const factory = require(spec.module) as Factory;
      // The codecs print progress/errors to stdout; keep the latest lines for error messages instead.
      const messages: string[] = [];
      const sink = (s: string) => { messages.push(s); if (messages.length > 20) messages.shift(); };
      const mod = await factory({ print: sink, printErr: sink });
      const Decoder = mod[spec.cls] as DecoderClass | undefined;
      if (typeof Decoder !== 'function') throw new Error(`${spec.module} does not export ${spec.cls}`);
      return { Decoder, messages };
    })();
    // A failed initialisation should not be cached forever.
    p.catch(() => cache.delete(name));
    cache.set(name, p);
  }
  return p;
}

export interface CodecOutput { info: CodecFrameInfo; pixels: Uint8Array; interleaveMode?: number }

/** Runs one decode, copying the result out of WASM memory before the decoder is freed. */
export async function decodeWithCodec(name: CodecName, encoded: Uint8Array, resolutionLevel = 0): Promise<CodecOutput> {
  const { Decoder, messages } = await load(name);
  messages.length = 0;
  const decoder = new Decoder();
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    try {
      if (resolutionLevel > 0 && decoder.decodeSubResolution) {
        decoder.readHeader?.();
        decoder.decodeSubResolution(resolutionLevel, 0);
      } else {
        decoder.decode();
      }
    } catch (e) {
      // Emscripten C++ exceptions surface as bare numbers (pointers); the printed log is the useful part.
      const detail = e instanceof Error ? e.message : decoder.getLastErrorMessage?.() || messages.filter((m) => /error/i.test(m)).join('; ') || 'codec error';
      throw new PixelDataError(`${name} failed to decode frame: ${detail}`, { cause: e });
    }
    const info = { ...decoder.getFrameInfo() };
    if (resolutionLevel > 0) {
      // getFrameInfo reports the full size even after a sub-resolution decode (documented upstream).
      info.width = Math.ceil(info.width / 2 ** resolutionLevel);
      info.height = Math.ceil(info.height / 2 ** resolutionLevel);
    }
    if (!info.width || !info.height || !info.componentCount) {
      const errs = messages.filter((m) => /error/i.test(m)).join('; ');
      throw new PixelDataError(`${name} failed to decode frame${errs ? `: ${errs}` : ' (empty result)'}`);
    }
    const pixels = decoder.getDecodedBuffer().slice();
    const expected = info.width * info.height * info.componentCount * (info.bitsPerSample > 8 ? 2 : 1);
    if (pixels.length !== expected) throw new PixelDataError(`${name} returned ${pixels.length} bytes, expected ${expected}`);
    const interleaveMode = decoder.getInterleaveMode?.();
    return { info, pixels, interleaveMode };
  } finally {
    decoder.delete();
  }
}
