import path from 'node:path';
import { createWorker, OEM, PSM, type Worker } from 'tesseract.js';
import { logger } from '../../log';

const log = logger.child({ module: 'burned-in-ocr' });

/** A grey 8-bit image, row-major. */
export interface Gray8 { width: number; height: number; data: Uint8Array }
/** Pixel rectangle: left, top, width, height. */
export interface Box { x: number; y: number; w: number; h: number }

export interface OcrWord {
  text: string;
  /** Tesseract's word confidence, 0..100. */
  confidence: number;
  /** In the coordinates of the image given to recognize(). */
  box: Box;
  /** Index of the text line the word belongs to (words of a line share it). */
  line: number;
}

export class OcrTimeoutError extends Error {
  constructor(ms: number) {
    super(`OCR did not finish within ${ms} ms`);
    this.name = 'OcrTimeoutError';
  }
}

// The language data ships in npm packages (@tesseract.js-data/*); pointing langPath at them is
// what keeps tesseract.js from fetching it from a CDN at run time. best_int: LSTM-only integer
// models, a fifth of the size of the default ones and as accurate on rendered text.
function langPath(lang: 'eng' | 'chi_sim'): string {
  return path.join(path.dirname(require.resolve(`@tesseract.js-data/${lang}/package.json`)), '4.0.0_best_int');
}

const quiet = { logger: () => undefined, errorHandler: (e: unknown) => log.warn({ err: e }, 'tesseract worker error'), cacheMethod: 'none', gzip: true };

/** PGM bytes: Leptonica reads them without a decoder, and writing one costs a copy. */
function pgm(img: Gray8): Buffer {
  const header = Buffer.from(`P5\n${img.width} ${img.height}\n255\n`, 'latin1');
  return Buffer.concat([header, img.data]);
}

/**
 * Tesseract on its own worker thread (tesseract.js runs the WebAssembly engine in a
 * worker_thread), one per calling thread, created on first use and reused. A call that runs
 * past its time terminates the thread, so a pathological image cannot wedge the caller; the next
 * call starts a fresh one.
 */
export class OcrEngine {
  private latin: Promise<Worker> | null = null;
  private cjk: Promise<Worker> | null = null;

  constructor(private readonly timeoutMs = 30_000, private readonly params: Record<string, string> = {}) {}

  private worker(kind: 'latin' | 'cjk'): Promise<Worker> {
    const lang = kind === 'latin' ? 'eng' : 'chi_sim';
    const existing = kind === 'latin' ? this.latin : this.cjk;
    if (existing) return existing;
    const created = (async () => {
      const w = await createWorker(lang, OEM.LSTM_ONLY, { ...quiet, langPath: langPath(lang), cachePath: langPath(lang) } as Parameters<typeof createWorker>[2]);
      // Sparse text: burned-in annotations are scattered words, not paragraphs. A fixed DPI stops
      // the engine estimating one (and printing that it did) for every image.
      // Whole images: Sauvola (local) thresholding, since a global Otsu threshold set by bright
      // anatomy drops grey text drawn on a dark background. Crops of one line (the Chinese
      // model's input) hold little but the text, and Otsu reads them where Sauvola breaks strokes.
      await w.setParameters({
        tessedit_pageseg_mode: PSM.SPARSE_TEXT, user_defined_dpi: '300',
        thresholding_method: kind === 'latin' ? '2' : '0', debug_file: '/dev/null', ...this.params,
      });
      return w;
    })();
    created.catch(() => this.forget(kind, created));
    if (kind === 'latin') this.latin = created;
    else this.cjk = created;
    return created;
  }

  private forget(kind: 'latin' | 'cjk', which: Promise<Worker>): void {
    if (kind === 'latin' && this.latin === which) this.latin = null;
    if (kind === 'cjk' && this.cjk === which) this.cjk = null;
  }

  private async withTimeout<T>(kind: 'latin' | 'cjk', run: (w: Worker) => Promise<T>): Promise<T> {
    const pending = this.worker(kind);
    let timer: NodeJS.Timeout | undefined;
    let expiredAlready = false;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => { expiredAlready = true; reject(new OcrTimeoutError(this.timeoutMs)); }, this.timeoutMs);
    });
    // A worker that comes up after the deadline is not given the job: it is terminated unused.
    const job = pending.then((w) => (expiredAlready ? Promise.reject(new OcrTimeoutError(this.timeoutMs)) : run(w)));
    job.catch(() => undefined);
    try {
      return await Promise.race([job, expired]);
    } catch (e) {
      // Whatever state the engine is in after a failure or a timeout, it is not reused.
      this.forget(kind, pending);
      pending.then((w) => w.terminate()).catch(() => undefined);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Words Tesseract finds in a grey image, with their boxes and confidences. */
  async recognize(img: Gray8): Promise<OcrWord[]> {
    return this.withTimeout('latin', async (w) => {
      const r = await w.recognize(pgm(img), {}, { blocks: true, text: false });
      const words: OcrWord[] = [];
      let line = 0;
      for (const b of r.data.blocks ?? []) {
        for (const p of b.paragraphs) {
          for (const l of p.lines) {
            for (const wd of l.words) {
              const { x0, y0, x1, y1 } = wd.bbox;
              words.push({ text: wd.text, confidence: wd.confidence, box: { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }, line });
            }
            line++;
          }
        }
      }
      return words;
    });
  }

  /** One line of Simplified Chinese (and Latin) text in a small crop: names written in Han characters. */
  async recognizeCjkLine(img: Gray8): Promise<{ text: string; confidence: number }> {
    return this.withTimeout('cjk', async (w) => {
      const r = await w.recognize(pgm(img), {}, { text: true });
      return { text: r.data.text.trim(), confidence: r.data.confidence };
    });
  }

  async close(): Promise<void> {
    const all = [this.latin, this.cjk];
    this.latin = this.cjk = null;
    await Promise.all(all.map((p) => p?.then((w) => w.terminate()).catch(() => undefined)));
  }
}
