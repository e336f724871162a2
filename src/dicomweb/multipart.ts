import crypto from 'node:crypto';
import { BadRequest, UnsupportedMediaType } from './errors.js';

/** A fresh boundary: random, so it cannot occur in a DICOM file by anything but chance (2^-96). */
export function newBoundary(): string {
  return `obia-${crypto.randomBytes(12).toString('hex')}`;
}

/** The Content-Type of a multipart/related answer whose parts are `type`. */
export function multipartType(boundary: string, type: string, transferSyntax?: string): string {
  return `multipart/related; type="${type}"; boundary=${boundary}${transferSyntax ? `; transfer-syntax=${transferSyntax}` : ''}`;
}

/** One part's header block (PS3.18 8.7.3.1: each part carries its own Content-Type). */
export function partHead(boundary: string, type: string, extra: Record<string, string> = {}): Buffer {
  let head = `--${boundary}\r\nContent-Type: ${type}\r\n`;
  for (const [k, v] of Object.entries(extra)) head += `${k}: ${v}\r\n`;
  return Buffer.from(`${head}\r\n`);
}

export function closing(boundary: string): Buffer {
  return Buffer.from(`--${boundary}--\r\n`);
}

/** A whole multipart/related body from parts already in memory. */
export function multipartBody(boundary: string, type: string, parts: { bytes: Uint8Array; headers?: Record<string, string> }[]): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(partHead(boundary, type, p.headers), Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength), Buffer.from('\r\n'));
  }
  chunks.push(closing(boundary));
  return Buffer.concat(chunks);
}

/** A media type's parameters (`type`, `boundary`, `transfer-syntax`, …), lower-cased names, quotes removed. */
export function mediaParams(contentType: string): { type: string; params: Record<string, string> } {
  const [type, ...rest] = contentType.split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { type: type!.trim().toLowerCase(), params };
}

export interface Part { headers: Record<string, string>; body: Buffer }

/**
 * Splits a multipart/related request body (RFC 2387) into its parts. Anything that is not
 * multipart/related with a boundary is 415; a body that does not follow its boundary is 400.
 */
export function parseMultipart(contentType: string | undefined, body: Buffer): { type: string | null; parts: Part[] } {
  const { type, params } = mediaParams(contentType ?? '');
  if (type !== 'multipart/related') throw new UnsupportedMediaType('STOW-RS takes multipart/related; type="application/dicom"');
  const boundary = params.boundary;
  if (!boundary || boundary.length > 200) throw new BadRequest('the multipart/related body names no boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw new BadRequest('the body holds no part delimited by its boundary');
  for (;;) {
    let start = at + delimiter.length;
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // "--": the closing delimiter
    // The rest of the delimiter line (transport padding) ends in CRLF.
    const lineEnd = body.indexOf('\r\n', start);
    if (lineEnd < 0) throw new BadRequest('a part delimiter is not followed by a line end');
    start = lineEnd + 2;
    const headEnd = body.indexOf('\r\n\r\n', start);
    const emptyHead = body[start] === 0x0d && body[start + 1] === 0x0a;
    if (headEnd < 0 && !emptyHead) throw new BadRequest('a part has no header block');
    const headers: Record<string, string> = {};
    const bodyStart = emptyHead ? start + 2 : headEnd + 4;
    if (!emptyHead) {
      for (const line of body.subarray(start, headEnd).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
    }
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), bodyStart);
    if (next < 0) throw new BadRequest('a part is not closed by the boundary');
    parts.push({ headers, body: body.subarray(bodyStart, next) });
    if (parts.length > 10_000) throw new BadRequest('more than 10000 parts');
    at = next + 2;
  }
  return { type: params.type?.toLowerCase() ?? null, parts };
}
