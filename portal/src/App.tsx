import { hasRole, session } from './auth';
import { useSession } from './hooks';
import { Link, match, navigate, useLocation } from './router';
import { MyRequests, RequestAccess, ReviewQueue } from './pages/Access';
import { Browse } from './pages/Browse';
import { CollectionPage } from './pages/Collection';
import { CurationPage, CurationStart } from './pages/Curation';
import { Home } from './pages/Home';
import { IndividualPage } from './pages/Individual';
import { Retrieval } from './pages/Retrieval';
import { SeriesPage } from './pages/Series';
import { SignIn, SignInCallback } from './pages/SignIn';
import { StudyPage } from './pages/Study';
import { NewSubmission, SubmissionPage } from './pages/Submit';

function route(path: string) {
  let m: Record<string, string> | null;
  if (path === '/') return <Home />;
  if (path === '/browse') return <Browse />;
  if ((m = match('/collections/:accession', path))) return <CollectionPage accession={m.accession!} />;
  if ((m = match('/individuals/:accession', path))) return <IndividualPage accession={m.accession!} />;
  if ((m = match('/studies/:accession', path))) return <StudyPage accession={m.accession!} />;
  if ((m = match('/series/:uid', path))) return <SeriesPage uid={m.uid!} />;
  if (path === '/retrieval') return <Retrieval />;
  if (path === '/sign-in') return <SignIn />;
  if (path === '/sign-in/callback') return <SignInCallback />;
  if (path === '/submit') return <NewSubmission />;
  if ((m = match('/submit/:id', path))) return <SubmissionPage id={Number(m.id)} />;
  if (path === '/access') return <MyRequests />;
  if (path === '/access/review') return <ReviewQueue />;
  if ((m = match('/access/request/:accession', path))) return <RequestAccess accession={m.accession!} />;
  if (path === '/curation') return <CurationStart />;
  if ((m = match('/curation/:id', path))) return <CurationPage id={Number(m.id)} />;
  return <div class="notice" role="alert"><h1>Page not found</h1><p>There is no page at {path}. <Link href="/">Home</Link></p></div>;
}

const NAV: [string, string, (p: string) => boolean][] = [
  ['/', 'Home', (p) => p === '/'],
  ['/browse', 'Browse', (p) => p.startsWith('/browse') || /^\/(collections|individuals|studies|series)\//.test(p)],
  ['/retrieval', 'Image retrieval', (p) => p.startsWith('/retrieval')],
  ['/submit', 'Submit', (p) => p.startsWith('/submit')],
  ['/access', 'Access', (p) => p.startsWith('/access')],
];

export function App() {
  const loc = useLocation();
  const s = useSession();
  const nav = hasRole(s, 'curator') ? [...NAV, ['/curation', 'Curation', (p: string) => p.startsWith('/curation')] as [string, string, (p: string) => boolean]] : NAV;
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <Link href="/" class="brand">OBIA Hub</Link>
        <nav aria-label="Main">
          <ul>{nav.map(([href, label, active]) => <li key={href}><Link href={href} aria-current={active(loc.path) ? 'page' : undefined}>{label}</Link></li>)}</ul>
        </nav>
        <div class="who">
          {s ? (
            <>
              <span>Signed in as <strong>{s.name ?? s.user}</strong> <span class="muted">({s.roles.join(', ')})</span></span>
              <button type="button" class="secondary" onClick={() => { session.clear(); navigate('/'); }}>Sign out</button>
            </>
          ) : <Link href={`/sign-in?next=${encodeURIComponent(loc.path)}`} class="button">Sign in</Link>}
        </div>
      </header>
      <main id="main" tabIndex={-1}>{route(loc.path)}</main>
      <footer><p>OBIA Hub · de-identified imaging under PS3.15 Annex E · <a href="/graphql">GraphQL API</a></p></footer>
    </>
  );
}
