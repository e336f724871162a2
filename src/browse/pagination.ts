import { GraphQLError } from 'graphql';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 500;

export interface PageArgs { first?: number | null; after?: string | null }

/** Opaque keyset cursors: the row id behind a kind tag, so a cursor from one list is refused by another. */
export function encodeCursor(kind: string, id: number): string {
  return Buffer.from(`${kind}:${id}`).toString('base64url');
}

/**
 * The row id of a cursor this list made, or BAD_USER_INPUT. Only the exact text encodeCursor
 * writes is one: base64url decoding skips what is not base64, and Number() reads '', ' ',
 * '0x10', '1e308' and '1:2'-split halves, so a forged or mangled cursor passed as some other
 * position (`study:1e308` read every study id as below it) instead of being refused.
 */
export function decodeCursor(kind: string, cursor: string | null | undefined): number {
  if (cursor == null || cursor === '') return 0;
  const text = cursor.length <= 64 ? Buffer.from(cursor, 'base64url').toString() : '';
  const id = text.startsWith(`${kind}:`) ? text.slice(kind.length + 1) : '';
  if (!/^(0|[1-9]\d{0,14})$/.test(id) || encodeCursor(kind, Number(id)) !== cursor) {
    throw new GraphQLError(`"after" is not a cursor of this ${kind} list.`, { extensions: { code: 'BAD_USER_INPUT', argument: 'after' } });
  }
  return Number(id);
}

export function pageSize(first: number | null | undefined): number {
  const n = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(n) || n < 0 || n > MAX_PAGE_SIZE) {
    throw new GraphQLError(`"first" must be between 0 and ${MAX_PAGE_SIZE}; got ${n}.`, {
      extensions: { code: 'BAD_USER_INPUT', argument: 'first', maximum: MAX_PAGE_SIZE },
    });
  }
  return n;
}

export interface Page<T> {
  nodes: T[];
  cursors: string[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  totalCount: () => Promise<number>;
}

/** Builds a page from rows fetched with one extra row, which tells whether a next page exists. */
export function toPage<T extends { id: number }>(kind: string, rows: T[], size: number, afterId: number, totalCount: () => Promise<number>): Page<T> {
  const nodes = rows.slice(0, size);
  return {
    nodes,
    cursors: nodes.map((n) => encodeCursor(kind, n.id)),
    hasNextPage: rows.length > size,
    hasPreviousPage: afterId > 0,
    totalCount,
  };
}
