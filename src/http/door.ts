import type { AccessModule } from '../access/module.js';
import type { Config } from '../config.js';
import type { ProxyTrust } from './clientAddress.js';
import type { CreateContext } from '../context.js';
import type { Ingest } from '../ingest/index.js';
import type { Logger } from '../log.js';
import type { Authenticate } from './authenticate.js';

/**
 * What every route plugin is given (as its plugin options): the one `authenticate`, the one
 * request-context builder (whose `session` is the authorization session) and the app's modules.
 * Errors are thrown as src/errors.ts classes; the server's one error handler maps them to HTTP.
 */
export interface Door {
  config: Config;
  authenticate: Authenticate;
  createContext: CreateContext;
  access: AccessModule;
  ingest: Ingest | null;
  log: Logger;
  /** OBIA_TRUST_PROXY compiled once (clientAddress.ts): Fastify's request.ip, the connection cap and graphql-ws all read it. */
  trust: ProxyTrust | null;
}
