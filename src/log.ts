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

export const logger = pino({
  level: process.env.OBIA_LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'warn' : 'info'),
  base: { service: 'obia-hub' },
  redact: { paths, censor: '[redacted]' },
  serializers: {
    err: (e: unknown) => {
      if (!(e instanceof Error)) return { type: typeof e };
      const code = (e as { code?: unknown }).code;
      return { type: e.constructor.name, code: typeof code === 'string' ? code : undefined, message: e.message, stack: e.stack };
    },
  },
});

export type Logger = pino.Logger;
