import { GraphQLError } from 'graphql';

/** `OBIA0001.v2`: how a collection version is named in download links and DRS ids. */
export const VERSION_ID = /^(OBIA\d{4})\.v([1-9]\d{0,5})$/;

export function versionId(accession: string, number: number): string {
  return `${accession}.v${number}`;
}

/** The accession and number of a version id; null when it is not one. */
export function parseVersionId(id: string): { accession: string; number: number } | null {
  const m = VERSION_ID.exec(id);
  return m ? { accession: m[1]!, number: Number(m[2]) } : null;
}

/** A version number (1, 2, …), or BAD_USER_INPUT naming `argument`. */
export function assertVersionNumber(n: number, argument = 'number'): void {
  if (!Number.isInteger(n) || n < 1) throw badInput('a version number is a positive integer', argument);
}

export function badInput(message: string, argument: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', argument } });
}

export function notFound(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'NOT_FOUND' } });
}
