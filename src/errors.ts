import { GraphQLError } from 'graphql';

/**
 * The archive's one error vocabulary. Every expected failure is one of these classes; each code
 * maps to exactly one HTTP status (`HTTP_STATUS`), used by the GraphQL transport and by every
 * HTTP route's error handler alike. Anything else is unexpected: masked as
 * INTERNAL_SERVER_ERROR and logged (class and stack, never values).
 *
 * Unknown versus hidden: an object that does not exist and one the caller may not see are
 * answered identically, so an answer never confirms that something hidden exists. Lookups by
 * id (`collection(accession)`, `series(uid)`, `submission(id)`, …) answer `null`; operations on
 * an object (mutations, file routes, subscriptions) answer UNAUTHENTICATED to anonymous callers
 * and FORBIDDEN (HTTP 404 on file routes) to signed-in ones, with the same message either way.
 */
export const HTTP_STATUS = {
  BAD_USER_INPUT: 400,
  GRAPHQL_PARSE_FAILED: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
  QUERY_TOO_DEEP: 400,
  QUERY_TOO_COMPLEX: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_ACCEPTABLE: 406,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  TOO_MANY_SUBSCRIPTIONS: 429,
  SUBSCRIBER_TOO_SLOW: 429,
  QUOTA_EXCEEDED: 429,
  INTERNAL_SERVER_ERROR: 500,
  STORAGE_CORRUPT: 500,
  SERVICE_UNAVAILABLE: 503,
  INSUFFICIENT_STORAGE: 507,
} as const;

export type ErrorCode = keyof typeof HTTP_STATUS;

/** The base of every expected error: a GraphQLError whose `extensions.code` is one of ErrorCode. */
export abstract class ArchiveError extends GraphQLError {
  abstract readonly code: ErrorCode;
  protected constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extensions } });
  }
  get status(): number { return HTTP_STATUS[this.code]; }
}

/** The input is malformed or out of range; `argument` names which one (never echoing its value). */
export class BadUserInputError extends ArchiveError {
  readonly code = 'BAD_USER_INPUT' as const;
  constructor(message: string, argument?: string) { super('BAD_USER_INPUT', message, argument ? { argument } : {}); }
}

export class UnauthenticatedError extends ArchiveError {
  readonly code = 'UNAUTHENTICATED' as const;
  constructor(message = 'Sign in: send Authorization: Bearer <token>.') { super('UNAUTHENTICATED', message); }
}

export class ForbiddenError extends ArchiveError {
  readonly code = 'FORBIDDEN' as const;
  constructor(message = 'You may not do this.') { super('FORBIDDEN', message); }
}

export class NotFoundError extends ArchiveError {
  readonly code = 'NOT_FOUND' as const;
  constructor(message = 'Not found.') { super('NOT_FOUND', message); }
}

/** None of the representations the request's Accept names can be given (DICOMweb, PS3.18 8.7). */
export class NotAcceptableError extends ArchiveError {
  readonly code = 'NOT_ACCEPTABLE' as const;
  constructor(message: string) { super('NOT_ACCEPTABLE', message); }
}

/** The client took too long to send its request (a body trickled in slower than the server waits for). */
export class RequestTimeoutError extends ArchiveError {
  readonly code = 'REQUEST_TIMEOUT' as const;
  constructor(message: string) { super('REQUEST_TIMEOUT', message); }
}

export class ConflictError extends ArchiveError {
  readonly code = 'CONFLICT' as const;
  constructor(message: string) { super('CONFLICT', message); }
}

export class PayloadTooLargeError extends ArchiveError {
  readonly code = 'PAYLOAD_TOO_LARGE' as const;
  constructor(message: string, limit?: number) { super('PAYLOAD_TOO_LARGE', message, limit ? { limit } : {}); }
}

export class UnsupportedMediaTypeError extends ArchiveError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE' as const;
  constructor(message: string) { super('UNSUPPORTED_MEDIA_TYPE', message); }
}

export class RangeNotSatisfiableError extends ArchiveError {
  readonly code = 'RANGE_NOT_SATISFIABLE' as const;
  constructor(message: string) { super('RANGE_NOT_SATISFIABLE', message); }
}

export class QueryTooDeepError extends ArchiveError {
  readonly code = 'QUERY_TOO_DEEP' as const;
  // `http`: Apollo answers with this status when the guard runs inside it (and strips the key).
  constructor(depth: number, maximum: number, message = `Query depth ${depth} exceeds the limit of ${maximum}.`) { super('QUERY_TOO_DEEP', message, { depth, maximum, http: { status: 400 } }); }
}

/** Too costly, too many tokens, aliases, directives or fragments: whatever makes an operation too big. */
export class QueryTooComplexError extends ArchiveError {
  readonly code = 'QUERY_TOO_COMPLEX' as const;
  constructor(message: string, extensions: Record<string, unknown> = {}) { super('QUERY_TOO_COMPLEX', message, { ...extensions, http: { status: 400 } }); }
}

export class TooManySubscriptionsError extends ArchiveError {
  readonly code = 'TOO_MANY_SUBSCRIPTIONS' as const;
  constructor(maximum: number, per: 'connection' | 'user') { super('TOO_MANY_SUBSCRIPTIONS', `At most ${maximum} subscriptions per ${per}.`, { maximum }); }
}

/** A subscription's events waited for its client past the bound (src/events/backlog.ts): it is ended; subscribing again starts from the current state. */
export class SubscriberTooSlowError extends ArchiveError {
  readonly code = 'SUBSCRIBER_TOO_SLOW' as const;
  constructor(maximum: number) { super('SUBSCRIBER_TOO_SLOW', `More than ${maximum} events waited for this subscription while its client was not reading: it is ended. Subscribe again.`, { maximum }); }
}

/** A user's share of something the archive holds for everyone (collection accessions) is used up. */
export class QuotaExceededError extends ArchiveError {
  readonly code = 'QUOTA_EXCEEDED' as const;
  constructor(message: string, maximum: number) { super('QUOTA_EXCEEDED', message, { maximum }); }
}

export class ServiceUnavailableError extends ArchiveError {
  readonly code = 'SERVICE_UNAVAILABLE' as const;
  constructor(message: string) { super('SERVICE_UNAVAILABLE', message); }
}

/** A stored file fails its sha256 in every copy: refused before any byte is sent (the archive logs it for repair). */
export class StorageCorruptError extends ArchiveError {
  readonly code = 'STORAGE_CORRUPT' as const;
  constructor() { super('STORAGE_CORRUPT', 'the stored file failed its integrity check in every copy; the archive has been alerted'); }
}

/** The HTTP status for any error: its code's status when it has a known one, else 500. */
export function statusOf(err: unknown): number {
  if (err instanceof ArchiveError) return err.status;
  const code = (err as GraphQLError | undefined)?.extensions?.code;
  if (typeof code === 'string' && code in HTTP_STATUS) return HTTP_STATUS[code as ErrorCode];
  return 500;
}

/** The code for any error: its own when it is one of ours, else INTERNAL_SERVER_ERROR. */
export function codeOf(err: unknown): ErrorCode {
  const code = (err as GraphQLError | undefined)?.extensions?.code;
  return typeof code === 'string' && code in HTTP_STATUS ? (code as ErrorCode) : 'INTERNAL_SERVER_ERROR';
}

/** Whether an error is expected (shown to the caller as is) rather than masked. */
export function isExpected(err: unknown): boolean {
  return codeOf(err) !== 'INTERNAL_SERVER_ERROR';
}

/** The code a bare HTTP status stands for (Fastify's own refusals carry only a status). */
export function codeForStatus(status: number): ErrorCode {
  const found = (Object.entries(HTTP_STATUS) as [ErrorCode, number][]).find(([code, s]) => s === status && code !== 'GRAPHQL_PARSE_FAILED' && code !== 'GRAPHQL_VALIDATION_FAILED');
  return found ? found[0] : status < 500 ? 'BAD_USER_INPUT' : 'INTERNAL_SERVER_ERROR';
}

/**
 * How an error message may name a value the caller sent: quoted when short and plain, so a
 * typo is easy to spot; otherwise not at all, so an oversized or odd input is never echoed
 * back (nor into logs).
 */
export function echo(value: unknown, max = 64): string {
  return typeof value === 'string' && value.length <= max && /^[\w .:@/-]*$/.test(value) ? `"${value}"` : 'The value';
}
