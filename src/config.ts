import path from 'node:path';
import type { ReleasesConfig } from './releases/config.js';
import type { PassportConfig } from './ga4gh/passport/config.js';
import type { BlobStoreSpec } from './storage/store.js';

/** Runtime settings, read once from the environment so every module sees the same values. */
export interface Config {
  port: number;
  dataDir: string;
  /** `mysql://…` selects MySQL/MariaDB; anything else (or nothing) the embedded SQLite file. */
  databaseUrl: string | null;
  /**
   * Read replicas of a MySQL/MariaDB primary (`mysql://…`, issue 18): reads outside transactions
   * go to one of them; writes, transactions and the ingest side stay on the primary.
   */
  databaseReplicas?: string[];
  stagingDir: string;
  backupDir: string;
  /** Where archived files are kept: the two local roots (dataDir/blobs, backupDir) or two S3 locations; from the environment when absent (src/storage/config.ts). */
  blobStore?: BlobStoreSpec;
  /** Where the archive keeps its signing keys and HMAC secret when no external issuer is configured. */
  keysDir: string;
  oidc: {
    issuer: string;
    audience: string;
    /** Remote JWKS of an external OIDC issuer; null means the local issuer in `keysDir`. */
    jwksUrl: string | null;
    clockToleranceSeconds: number;
    /** Longest wait for a remote JWKS (OIDC_JWKS_TIMEOUT_MS): past it, SERVICE_UNAVAILABLE (503). */
    jwksTimeoutMs?: number;
  };
  /** Interface to listen on (`npm start`); servers started by tests always listen on 127.0.0.1. */
  host: string;
  limits: {
    maxPageSize: number;
    maxDepth: number;
    maxComplexity: number;
    /** Lexical tokens per GraphQL document. */
    maxTokens: number;
    /** Aliased fields and directives per operation, fragments expanded. */
    maxAliases: number;
    maxDirectives: number;
    /** Live subscriptions per graphql-ws connection and per user (anonymous: per remote address). */
    subscriptionsPerConnection: number;
    subscriptionsPerUser: number;
    /** Open graphql-ws connections per user (anonymous: per remote address). */
    websocketsPerUser: number;
    /**
     * Open connections (HTTP and graphql-ws alike) per remote address, trusted proxies excepted,
     * and in all (src/http/connectionCap.ts; the total's default is half the process's file limit).
     */
    connectionsPerAddress: number;
    maxConnections: number | null;
    /**
     * An HTTP connection that sends and receives nothing for this long is closed: a client that
     * stops mid-upload (a dead uploader, slowloris) would otherwise hold its socket, its staged
     * half file and the submission's run (which waits for uploads in flight) for ever. WebSocket
     * connections (subscriptions) are not under it once upgraded.
     */
    idleTimeoutMs: number;
    /**
     * Shutdown waits this long for the responses in flight to end, then cuts the connections left:
     * a client that stops reading a response keeps its connection busy, and the hub's shutdown
     * waited on it (≈ 55 s for one test's unread previews; up to the idle timeout per client).
     */
    shutdownGraceMs: number;
    /**
     * Request bodies read into memory (GraphQL over HTTP, STOW-RS, query images; not uploads,
     * which stream into staging): bytes held at once by every request together, and the slowest
     * average rate a body may arrive at after `bodyGraceMs` (src/http/bodyBudget.ts).
     */
    bufferedBodyBytes: number;
    minBodyBytesPerSecond: number;
    bodyGraceMs: number;
  };
  logQueries: boolean;
  /** Redis (`redis://host:port`) through which hub replicas share events; null keeps them in-process. */
  redisUrl?: string | null;
  /**
   * Where ingest runs (issue 18): `embedded` (default) in this process's worker threads; `bullmq`
   * as jobs on `redisUrl`'s BullMQ queue, processed by `npm run worker` processes. `lockMs`: how
   * long a worker holds a job without renewing it before another takes it over (a killed worker).
   */
  jobs?: { mode: 'embedded' | 'bullmq'; lockMs: number };
  /** Shared secret the federation gateway sends; when set, only it and admins may call _entities/_service. */
  gatewaySecret: string | null;
  /**
   * Reverse proxies whose X-Forwarded-For is believed (OBIA_TRUST_PROXY: addresses, CIDRs, or
   * loopback / linklocal / uniquelocal), so that what is bounded per anonymous caller is bounded
   * per client and not per proxy; none by default (src/http/clientAddress.ts).
   */
  trustProxy: string[];
  /** When set, GET /metrics wants it as a bearer token (OBIA_METRICS_TOKEN). */
  metricsToken?: string | null;
  /** Submission uploads: per-file size limit, and the bounds a zip may expand to (zip bombs). */
  ingest: {
    maxFileBytes: number;
    maxZipExpandedBytes: number;
    maxZipEntries: number;
    /** Expanded bytes per compressed byte a zip (and each entry) may reach: DICOM deflates a few times, a bomb a thousand. */
    maxZipRatio: number;
    /** Received bytes one submission, and all submissions of one submitter, may hold in staging. */
    submissionQuotaBytes: number;
    userQuotaBytes: number;
    /** Uploads stop (507) before the staging disk's free space falls under this. */
    minFreeBytes: number;
    /** Collections not yet released that one submitter may hold (each takes one of 9,999 accessions). */
    maxDraftCollections?: number;
    /** Clinical records one submission may hold (staged before any file is parsed, so the caller sets how many). */
    maxClinicalRecords?: number;
  };
  /** DataCite and publisher settings of collection versions (issue 19); from the environment when absent. */
  releases?: ReleasesConfig;
  /** Trusted GA4GH Passport brokers and visa issuers (issue 19); from the environment when absent. */
  passports?: PassportConfig;
  /** DICOMweb (/dicom-web): the public base URL of the service root (else from X-Forwarded-Proto/Host or the request), and the origins CORS lets in (`*` for any). */
  dicomweb: {
    baseUrl: string | null;
    corsOrigins: string[];
    /** The deepest QIDO-RS offset taken (OBIA_QIDO_MAX_OFFSET); src/dicomweb/query.ts MAX_OFFSET when absent. */
    maxOffset?: number;
  };
}

function int(value: string | undefined, fallback: number): number {
  const n = value === undefined || value === '' ? NaN : Number(value);
  return Number.isFinite(n) ? n : fallback;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const dataDir = path.resolve(env.OBIA_DATA_DIR ?? 'data');
  const config: Config = {
    port: int(env.PORT, 4000),
    dataDir,
    databaseUrl: env.DATABASE_URL || null,
    databaseReplicas: (env.OBIA_DATABASE_REPLICAS ?? '').split(',').map((u) => u.trim()).filter(Boolean),
    stagingDir: path.resolve(env.OBIA_STAGING_DIR ?? path.join(dataDir, 'staging')),
    backupDir: path.resolve(env.OBIA_BACKUP_DIR ?? path.join(dataDir, 'backup')),
    keysDir: path.resolve(env.OBIA_KEYS_DIR ?? path.join(dataDir, 'keys')),
    oidc: {
      issuer: env.OIDC_ISSUER ?? 'urn:obia-hub:local-issuer',
      audience: env.OIDC_AUDIENCE ?? 'obia-hub',
      jwksUrl: env.OIDC_JWKS_URL || null,
      clockToleranceSeconds: int(env.OIDC_CLOCK_TOLERANCE, 30),
      jwksTimeoutMs: int(env.OIDC_JWKS_TIMEOUT_MS, 5_000),
    },
    host: env.HOST || '0.0.0.0',
    limits: {
      maxPageSize: 500,
      maxDepth: int(env.OBIA_MAX_QUERY_DEPTH, 16),
      maxComplexity: int(env.OBIA_MAX_QUERY_COMPLEXITY, 250_000),
      maxTokens: int(env.OBIA_MAX_QUERY_TOKENS, 10_000),
      maxAliases: int(env.OBIA_MAX_QUERY_ALIASES, 50),
      maxDirectives: int(env.OBIA_MAX_QUERY_DIRECTIVES, 50),
      subscriptionsPerConnection: int(env.OBIA_MAX_SUBSCRIPTIONS_PER_CONNECTION, 20),
      subscriptionsPerUser: int(env.OBIA_MAX_SUBSCRIPTIONS_PER_USER, 50),
      websocketsPerUser: int(env.OBIA_MAX_WEBSOCKETS_PER_USER, 32),
      connectionsPerAddress: int(env.OBIA_MAX_CONNECTIONS_PER_ADDRESS, 256),
      maxConnections: env.OBIA_MAX_CONNECTIONS ? int(env.OBIA_MAX_CONNECTIONS, 0) : null,
      idleTimeoutMs: int(env.OBIA_HTTP_IDLE_TIMEOUT_MS, 120_000),
      shutdownGraceMs: int(env.OBIA_SHUTDOWN_GRACE_MS, 10_000),
      // Twice the largest body a route takes (STOW-RS: 512 MB), so one at the limit never waits alone.
      bufferedBodyBytes: int(env.OBIA_MAX_BUFFERED_BODY_BYTES, 2 ** 30),
      minBodyBytesPerSecond: int(env.OBIA_MIN_BODY_BYTES_PER_SECOND, 64 * 1024),
      bodyGraceMs: int(env.OBIA_BODY_GRACE_MS, 10_000),
    },
    logQueries: env.OBIA_LOG_QUERIES === '1',
    gatewaySecret: env.OBIA_GATEWAY_SECRET || null,
    trustProxy: (env.OBIA_TRUST_PROXY ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    metricsToken: env.OBIA_METRICS_TOKEN || null,
    redisUrl: env.OBIA_REDIS_URL || null,
    jobs: { mode: env.OBIA_JOBS === 'bullmq' ? 'bullmq' : 'embedded', lockMs: int(env.OBIA_JOBS_LOCK_MS, 30_000) },
    ingest: {
      maxFileBytes: int(env.OBIA_MAX_FILE_BYTES, 1 << 30),
      maxZipExpandedBytes: int(env.OBIA_MAX_ZIP_EXPANDED_BYTES, 16 * 2 ** 30),
      maxZipEntries: int(env.OBIA_MAX_ZIP_ENTRIES, 200_000),
      maxZipRatio: int(env.OBIA_MAX_ZIP_RATIO, 100),
      submissionQuotaBytes: int(env.OBIA_SUBMISSION_QUOTA_BYTES, 64 * 2 ** 30),
      userQuotaBytes: int(env.OBIA_USER_QUOTA_BYTES, 256 * 2 ** 30),
      minFreeBytes: int(env.OBIA_STAGING_MIN_FREE_BYTES, 2 * 2 ** 30),
      maxDraftCollections: int(env.OBIA_MAX_DRAFT_COLLECTIONS, 100),
      maxClinicalRecords: int(env.OBIA_MAX_CLINICAL_RECORDS, 10_000),
    },
    dicomweb: {
      baseUrl: env.OBIA_DICOMWEB_BASE_URL?.replace(/\/+$/, '') || null,
      corsOrigins: (env.OBIA_DICOMWEB_CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
      ...(env.OBIA_QIDO_MAX_OFFSET ? { maxOffset: int(env.OBIA_QIDO_MAX_OFFSET, 100_000) } : {}),
    },
  };
  return { ...config, ...overrides };
}
