/**
 * `npm run token -- --user alice --role submitter [--role curator] [--name "Alice"] [--institution "…"] [--ttl 3600]`
 * prints a bearer token from the local issuer whose key lives in OBIA_DATA_DIR.
 */
import { LocalIssuer } from '../src/auth/issuer.js';
import { Role } from '../src/auth/Principal.js';
import { loadConfig } from '../src/config.js';

function values(name: string): string[] {
  const out: string[] = [];
  process.argv.forEach((a, i) => { if (a === `--${name}` && process.argv[i + 1]) out.push(process.argv[i + 1]!); });
  return out;
}

async function main() {
  const [user] = values('user');
  if (!user) throw new Error('usage: npm run token -- --user <id> --role <researcher|submitter|curator|admin>');
  const known = Object.values(Role) as string[];
  const roles = (values('role').length ? values('role') : ['researcher']).map((r) => {
    if (!known.includes(r)) throw new Error(`unknown role "${r}": expected one of ${known.join(', ')}`);
    return r as Role;
  });
  const issuer = await LocalIssuer.open(loadConfig());
  const ttl = Number(values('ttl')[0] ?? 12 * 3600);
  process.stdout.write(await issuer.issue({ sub: user, roles, name: values('name')[0], institution: values('institution')[0] }, ttl) + '\n');
}

main().catch((err) => { console.error(err.message); process.exit(1); });
