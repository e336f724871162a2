import { GraphQLError } from 'graphql';

/** A DRS error: answered with the spec's Error body `{ msg, status_code }` and that status. */
export class DrsError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

export const notFound = () => new DrsError(404, 'no such object');

/** The archive's policy refusals (UNAUTHENTICATED / FORBIDDEN) as DRS statuses; anything else passes through. */
export function fromPolicy(err: unknown): unknown {
  if (err instanceof GraphQLError) {
    if (err.extensions.code === 'UNAUTHENTICATED') return new DrsError(401, 'sign in (bearer token) or present a passport to access this object');
    if (err.extensions.code === 'FORBIDDEN') return new DrsError(403, 'you may not access this object');
  }
  return err;
}
