/** DataCite REST API credentials; minting happens only when all of them are set. */
export interface DataCiteConfig {
  /** e.g. https://api.datacite.org (production) or https://api.test.datacite.org. */
  endpoint: string;
  repositoryId: string;
  password: string;
  /** The repository's DOI prefix, e.g. 10.12345. */
  prefix: string;
}

export interface ReleasesConfig {
  /** DataCite `publisher`. */
  publisher: string;
  datacite: DataCiteConfig | null;
}

/** Read from the environment: DATACITE_API_URL, DATACITE_REPOSITORY_ID, DATACITE_PASSWORD, DATACITE_PREFIX, OBIA_PUBLISHER. */
export function releasesConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ReleasesConfig {
  const { DATACITE_API_URL: endpoint, DATACITE_REPOSITORY_ID: repositoryId, DATACITE_PASSWORD: password, DATACITE_PREFIX: prefix } = env;
  return {
    publisher: env.OBIA_PUBLISHER || 'OBIA Hub',
    datacite: endpoint && repositoryId && password && prefix ? { endpoint: endpoint.replace(/\/$/, ''), repositoryId, password, prefix } : null,
  };
}
