import { useEffect, useState } from 'preact/hooks';
import { devSignIn, finishOidcSignIn, loadSignInConfig, startOidcSignIn, type Role, type SignInConfig } from '../auth';
import { ErrorBox, Loading } from '../components/Status';
import { useSession, useTitle } from '../hooks';
import { returnPath } from '../returnPath';
import { Link, navigate, useLocation } from '../router';

export function RequireSignIn({ why }: { why: string }) {
  return <div class="notice" role="alert"><p><Link href={`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`}>Sign in</Link> to {why}.</p></div>;
}

const ROLE_HELP: Record<Role, string> = {
  researcher: 'browse, search, request access to controlled collections',
  submitter: 'deposit imaging and review requests for your collections',
  curator: 'review quality control and release collections',
  admin: 'everything',
};

export function SignIn() {
  useTitle('Sign in');
  const loc = useLocation();
  const next = returnPath(loc.query.get('next'), location.origin);
  const current = useSession();
  const [config, setConfig] = useState<SignInConfig | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => { loadSignInConfig().then(setConfig, setError); }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const fd = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true); setError(null);
    try {
      await devSignIn(String(fd.get('user')), String(fd.get('role')) as Role, String(fd.get('name') ?? ''));
      navigate(next);
    } catch (err) { setError(err as Error); } finally { setBusy(false); }
  };
  return (
    <>
      <h1>Sign in</h1>
      {current ? <p role="status">You are signed in as <strong>{current.user}</strong> ({current.roles.join(', ')}).</p> : null}
      <ErrorBox error={error} />
      {!config && !error ? <Loading label="Loading sign-in options…" /> : null}
      {config?.mode === 'oidc' ? (
        <div class="panel">
          <p>Sign in with your institution's account at <span class="uid">{config.oidc?.issuer}</span>.</p>
          <button type="button" onClick={() => startOidcSignIn(config, next).catch(setError)}>Continue to sign-in</button>
        </div>
      ) : null}
      {config?.devSignIn ? (
        <form class="panel form" onSubmit={submit}>
          <h2>Development sign-in</h2>
          <p class="muted">This archive uses its embedded local issuer: choose a user name and a role to get a token (the same as <code>npm run token</code>). Deployments with an OIDC identity provider do not offer this.</p>
          <label for="user">User name</label>
          <input id="user" name="user" required pattern="[A-Za-z0-9][A-Za-z0-9._@\-]{0,63}" autoComplete="username" />
          <label for="name">Display name (optional)</label>
          <input id="name" name="name" autoComplete="name" />
          <fieldset><legend>Role</legend>
            {config.roles.map((r, i) => (
              <label key={r} class="radio"><input type="radio" name="role" value={r} checked={i === 0} /> {r}: <span class="muted">{ROLE_HELP[r] ?? ''}</span></label>
            ))}
          </fieldset>
          <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        </form>
      ) : config?.mode === 'local' ? <p class="notice">Development sign-in is not offered here: this archive answers it only on the machine it runs on (or not at all). Ask an administrator for a token.</p> : null}
    </>
  );
}

export function SignInCallback() {
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    loadSignInConfig().then((c) => finishOidcSignIn(c, new URLSearchParams(location.search))).then((to) => navigate(to, true), setError);
  }, []);
  return error ? <ErrorBox error={error} /> : <Loading label="Finishing sign-in…" />;
}
