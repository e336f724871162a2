import { NotAcceptable } from './errors.js';
import { mediaParams } from './multipart.js';

/** One media range of an Accept header (or of the `accept` query parameter, PS3.18 8.3.3.1). */
export interface MediaRange { type: string; params: Record<string, string>; q: number }

/** The media ranges a request accepts, best first; none given means anything. */
export function acceptedRanges(header: string | undefined, query: unknown): MediaRange[] {
  const fromQuery = Array.isArray(query) ? query.join(',') : typeof query === 'string' ? query : '';
  // The query parameter wins over the header (PS3.18 8.3.3.1: for clients that cannot set headers).
  const text = fromQuery || header || '*/*';
  if (text.length > 4096) throw new NotAcceptable('the Accept header is too long');
  // Commas inside quoted parameters are not separators.
  const ranges = text.match(/(?:[^,"]|"[^"]*")+/g) ?? [];
  return ranges.map((r) => {
    const { type, params } = mediaParams(r);
    const q = params.q === undefined ? 1 : Number(params.q);
    return { type, params, q: Number.isFinite(q) ? q : 0 };
  }).filter((r) => r.type && r.q > 0).sort((a, b) => b.q - a.q);
}

// Whether a media range (any, a type with any subtype, or one type) covers a media type.
export function matches(range: string, offered: string): boolean {
  if (range === '*/*' || range === offered) return true;
  return range.endsWith('/*') && offered.startsWith(range.slice(0, -1));
}

/**
 * The first of `offered` the request accepts, in the order of its preferences; 406 with the
 * representations on offer when none is. `multipart/related` ranges are matched on their
 * `type` parameter too (`multipart/related; type="application/dicom"`); the range itself is
 * returned so its `transfer-syntax` can be read.
 */
export function negotiate(ranges: MediaRange[], offered: string[]): { type: string; range: MediaRange } {
  for (const range of ranges) {
    for (const o of offered) {
      const [outer, inner] = o.split(';type=');
      if (!matches(range.type, outer!)) continue;
      if (inner && range.type === 'multipart/related' && range.params.type && !matches(range.params.type.toLowerCase(), inner)) continue;
      return { type: o, range };
    }
  }
  throw new NotAcceptable(`none of the accepted media types can be given here; this resource offers ${offered.map((o) => o.replace(';type=', '; type=')).join(', ')}`);
}
