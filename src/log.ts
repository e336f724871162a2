/**
 * The one structured logger. Every module logs through `logger` or a child of it
 * (`logger.child({ submission: id })`, `logger.child({ file: id })`), never through
 * console, so redaction is configured here and nowhere else.
 *
 * Why redaction by path and not by care at each call site: a DICOM attribute value can
 * carry PHI (names, IDs, dates, addresses). Any field named after one is censored
 * wherever it appears in a log object, and error objects are reduced to their class,
 * code and message (messages are written by us and name tags, never their values).
 */
import pino from 'pino';

/** Field names whose values may be identifying; censored at any depth up to two levels. */
const SENSITIVE = [
  'value', 'values', 'patientName', 'patientId', 'PatientName', 'PatientID', 'PatientBirthDate',
  'name', 'address', 'header', 'dataset', 'dict', 'raw', 'body', 'token', 'authorization',
  'variables', 'keyword', 'password', 'secret',
];

const paths = SENSITIVE.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

type Tap = (line: string) => void;
const taps = new Set<Tap>();
// Synchronous, as pino's default: a process that exits (the CLI, a crash) loses no line.
const stdout = pino.destination({ dest: 1, sync: true });

/**
 * Every line the logger writes also goes to the taps (after redaction: a tap sees exactly what
 * the log file would). Tests read the log through one (the PHI scan looks for markers in it).
 */
export function tapLog(tap: Tap): () => void {
  taps.add(tap);
  return () => taps.delete(tap);
}

const destination = {
  write(line: string): void {
    for (const tap of taps) tap(line);
    stdout.write(line);
  },
};

export const logger = pino({
  level: process.env.OBIA_LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'warn' : 'info'),
  base: { service: 'obia-hub' },
  redact: { paths, censor: '[redacted]' },
  serializers: {
    err: (e: unknown) => {
      if (!(e instanceof Error)) return { type: typeof e };
      const code = (e as { code?: unknown }).code;
      // Database drivers put the statement, with its parameters, in the message: a parameter can
      // be a stored value, so such errors are logged by class and code only. mysql2's carry `sql`;
      // better-sqlite3's carry only their code, and knex writes the statement into the message.
      if ('sql' in e || 'sqlMessage' in e || 'sqlState' in e || (typeof code === 'string' && /^(SQLITE_|ER_)/.test(code))) {
        return { type: e.constructor.name, code: typeof code === 'string' ? code : undefined };
      }
      return { type: e.constructor.name, code: typeof code === 'string' ? code : undefined, message: e.message, stack: e.stack };
    },
  },
}, destination);

export type Logger = pino.Logger;
