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

export function hasRole(user: Principal | null, ...roles: Role[]): boolean {
  return !!user && user.roles.some((r) => roles.includes(r));
}
