import { GraphQLError } from 'graphql';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 500;

export interface PageArgs { first?: number | null; after?: string | null }

/** Opaque keyset cursors: the row id behind a kind tag, so a cursor from one list is refused by another. */
export function encodeCursor(kind: string, id: number): string {
  return Buffer.from(`${kind}:${id}`).toString('base64url');
}

export function decodeCursor(kind: string, cursor: string | null | undefined): number {
  if (cursor == null || cursor === '') return 0;
  const [k, id] = Buffer.from(cursor, 'base64url').toString().split(':');
  const n = Number(id);
  if (k !== kind || !Number.isInteger(n) || n < 0) {
    throw new GraphQLError(`"after" is not a cursor of this ${kind} list.`, { extensions: { code: 'BAD_USER_INPUT', argument: 'after' } });
  }
  return n;
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
