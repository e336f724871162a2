import type { Logger } from '../log.js';

export interface ProcessFaultOptions {
  /** The process's structured logger (src/log.ts: its serializers reduce errors to class, code and message, and redact values). */
  log: Logger;
  /** Stops taking work and lets the work in hand end (the process's own SIGTERM path); the process then exits 1. */
  drain?: () => Promise<unknown>;
  /** How long `drain` may take before the process exits anyway (a drain stuck on a broken state must not keep a corrupt process up). */
  drainMs?: number;
  /** Exits the process (tests observe it instead). */
  exit?: (code: number) => void;
}

/**
 * The policy of every long-running entry point (the hub, `npm run worker`, the gateway) for a
 * fault no code path caught. Node 20's default ends the process on either, so one promise
 * rejection nobody awaited, in any request's path, ended the hub and every upload, download and
 * subscription of every other user with it.
 *
 * - unhandledRejection: logged (as an error, through the structured logger, so a reason carrying a
 *   stored value is redacted like any other) and the process keeps serving. A rejected promise
 *   nobody awaited has already unwound: its failure is confined to the work that made it (one
 *   request, one job), which has answered or will be retried, and shared state is not left half
 *   changed by a throw through it. Ending the process would turn one client's fault into everyone's.
 * - uncaughtException: logged as fatal, then the process drains (within `drainMs`) and exits 1,
 *   for the supervisor (systemd, Kubernetes, the gateway's runner) to start a fresh one. A throw
 *   that reached the event loop unwound through code that did not expect it, in the middle of
 *   whatever it was changing (a map of open connections, a lease, a counter); going on would serve
 *   from state nobody can vouch for. A second fault while draining exits at once.
 *
 * Returns a function that removes the handlers (tests).
 */
export function installProcessFaultHandlers(options: ProcessFaultOptions): () => void {
  const { log, drain, drainMs = 10_000 } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let failing = false;

  const onRejection = (reason: unknown) => {
    // `err` goes through the logger's serializer: an Error by class, code, message and stack; anything else by its type only.
    log.error({ err: reason }, 'unhandled promise rejection (the process keeps serving)');
  };
  const onException = (err: unknown, origin: string) => {
    log.fatal({ err, origin }, 'uncaught exception: draining, then exiting for a restart');
    if (failing) {
      exit(1);
      return;
    }
    failing = true;
    if (!drain) {
      exit(1);
      return;
    }
    // Not unref'd: a drain that hangs must not leave the process up.
    const deadline = setTimeout(() => exit(1), drainMs);
    Promise.resolve()
      .then(drain)
      .catch((drainErr) => log.error({ err: drainErr }, 'draining after an uncaught exception failed'))
      .finally(() => {
        clearTimeout(deadline);
        exit(1);
      });
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
