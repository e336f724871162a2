import crypto from 'node:crypto';
import { registerEnumType } from 'type-graphql';

export enum Role {
  RESEARCHER = 'researcher',
  SUBMITTER = 'submitter',
  CURATOR = 'curator',
  ADMIN = 'admin',
}
registerEnumType(Role, {
  name: 'Role', description: 'What a signed-in user may do: researchers browse and request, submitters deposit, curators review and release, admins administer.',
  valuesConfig: {
    RESEARCHER: { description: 'Browses and requests access to controlled collections.' },
    SUBMITTER: { description: 'Also deposits submissions.' },
    CURATOR: { description: 'Also reviews, repairs and releases any submission.' },
    ADMIN: { description: 'Everything, including other users\' delegations and federation internals.' },
  },
});

/** Who is asking. Anonymous callers have no principal at all (context.user is null). */
export interface Principal {
  /** The token's `sub`, stable per user at the issuer. */
  id: string;
  name: string | null;
  email: string | null;
  institution: string | null;
  roles: Role[];
  /** GA4GH ControlledAccessGrants visas of a verified passport (src/ga4gh/passport); absent for bearer tokens. */
  visas?: VisaGrant[];
  /** When the passport the principal came from expires (Unix seconds); absent for bearer tokens. */
  expiresAt?: number;
}

/** One dataset a verified visa grants, until `exp` (Unix seconds, never past the passport's own). */
export interface VisaGrant { dataset: string; source: string; issuer: string; exp: number }

/** What user_account keeps of a subject and of a display claim (its columns' lengths). */
const SUBJECT_MAX = 200;
const CLAIM_MAX = 300;

/**
 * A user's id from an issuer's subject: as given while it fits the user table, else a digest of
 * it under the same prefix (stable per subject). OIDC allows subjects of 255 characters, and one
 * longer than the table's 200 failed every request of its user on MariaDB.
 */
export function subjectId(prefix: string, sub: string): string {
  const id = `${prefix}${sub}`;
  return id.length <= SUBJECT_MAX ? id : `${prefix}${crypto.createHash('sha256').update(id).digest('hex')}`;
}

/** A display claim (name, e-mail, institution) of a token: text of at most 300 characters, or null. */
export function displayClaim(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  return text ? text.slice(0, CLAIM_MAX) : null;
}

export function hasRole(user: Principal | null, ...roles: Role[]): boolean {
  return !!user && user.roles.some((r) => roles.includes(r));
}
