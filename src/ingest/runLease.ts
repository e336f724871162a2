// The lease an in-process run holds on its submission. Hubs are replicas of one archive (README,
// "Scaling out"); without the job queue each runs processSubmission in its own process, and a
// client retrying through a load balancer asked two of them at once: both ran every file, and
// each quarantined as PROCESSING_ERROR the files the other had just catalogued (26 of 40 in
// test/reliability/twoHubs, MariaDB). The pipeline's `running` map joins runs within a process
// only; this joins them across processes, on the submission's row.
//
// A claim is one conditional UPDATE (no read first: two claims at once cannot both see the row
// free), taken when no run holds the submission, or its holder has been silent for a whole lease
// (a hub killed mid-run on another machine), or its holder's process is known to have ended (one
// on this machine: ownerIsGone). The holder renews on a timer, not per batch: a batch of burned-in text
// checks can run longer than a lease and its process is alive all the same. A holder that finds
// its lease taken over (its renewal changed no row) stops after the batch in hand.
import type { EntityManager } from '@mikro-orm/knex';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { Submission, SubmissionState } from '../entities/Submission.js';
import { sha256Hex } from '../storage/BlobStore.js';

/**
 * Where a process runs and which process it is, as far as this machine can tell another's: the
 * boot, the PID namespace (containers on one kernel each have their own) and the PID with its start
 * time (a PID is reused; its start time is not). Null where /proc does not say (not Linux).
 */
function processIdentity(pid: number | 'self'): { place: string; pid: number; started: string } | null {
  try {
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const ns = fs.readlinkSync(`/proc/${pid}/ns/pid`);
    // Fields after the command name (which may hold spaces): the start time is the 20th.
    const started = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;
    // The place as a short digest: the owner id must fit run_owner's 64 characters.
    return { place: sha256Hex(Buffer.from(`${boot}/${ns}`)).slice(0, 12), pid: pid === 'self' ? process.pid : pid, started };
  } catch {
    return null;
  }
}

const SELF = processIdentity('self');

/**
 * The owner id a process of this machine with `pid` and start time `started` writes
 * ("place|pid|started|random", 48 random bits, fresh for every claim); null where /proc does not say.
 */
export function ownerOnThisMachine(pid: number, started: string): string | null {
  return SELF ? `${SELF.place}|${pid}|${started}|${randomBytes(6).toString('hex')}` : null;
}

function newOwner(): string {
  return (SELF && ownerOnThisMachine(SELF.pid, SELF.started)) ?? randomUUID();
}

/**
 * Whether the owner's process is known to have ended: it ran in this machine's boot and PID
 * namespace, and no process of its PID and start time is alive. A hub killed mid-run (SIGKILL, a
 * crash) is taken over at once by the next run on its machine, not after a whole lease.
 */
export function ownerIsGone(owner: string): boolean {
  const [place, pid, started] = owner.split('|');
  if (!SELF || place !== SELF.place || !pid || !started || !/^\d+$/.test(pid)) return false;
  const now = processIdentity(Number(pid));
  return now === null || now.started !== started;
}

/** How long a holder may stay silent before its run is presumed dead (OBIA_RUN_LEASE_MS). */
export function leaseMsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const ms = Number(env.OBIA_RUN_LEASE_MS ?? 60_000);
  if (!Number.isFinite(ms) || ms < 100) throw new Error(`OBIA_RUN_LEASE_MS must be at least 100 milliseconds (got "${env.OBIA_RUN_LEASE_MS}")`);
  return ms;
}

export class RunLease {
  private timer: NodeJS.Timeout | null = null;
  private lostIt = false;

  private constructor(private readonly em: () => EntityManager, readonly submissionId: number, readonly owner: string) {}

  /**
   * Marks the submission PROCESSING under a new lease, if no live run holds it; null otherwise.
   * The lease renews itself until `release`.
   */
  static async claim(em: () => EntityManager, submissionId: number, leaseMs: number, gone?: string): Promise<RunLease | null> {
    const owner = newOwner();
    const now = new Date();
    const free = [{ runOwner: null }, { runHeartbeatAt: null }, { runHeartbeatAt: { $lt: new Date(now.getTime() - leaseMs) } }];
    const claimed = await em().nativeUpdate(
      Submission,
      // `gone`: a holder whose process is known to have ended (ownerIsGone), taken over whatever its lease says.
      { id: submissionId, $or: gone ? [...free, { runOwner: gone }] : free },
      { state: SubmissionState.PROCESSING, runOwner: owner, runHeartbeatAt: now },
    );
    if (claimed !== 1) return null;
    const lease = new RunLease(em, submissionId, owner);
    lease.timer = setInterval(() => void lease.renew(), Math.max(50, Math.floor(leaseMs / 4)));
    lease.timer.unref();
    return lease;
  }

  /** Whether another process took the submission over (this one was silent for a lease): the run stops after its batch. */
  get lost(): boolean {
    return this.lostIt;
  }

  /** Says this run is alive; false (and `lost` from then on) when the lease is no longer this run's. */
  async renew(): Promise<boolean> {
    if (this.lostIt) return false;
    try {
      const n = await this.em().nativeUpdate(Submission, { id: this.submissionId, runOwner: this.owner }, { runHeartbeatAt: new Date() });
      if (n !== 1) this.lostIt = true;
    } catch {
      // The database is away for a moment: the next renewal tries again, and the run's own
      // statements fail meanwhile if it is away for longer.
    }
    return !this.lostIt;
  }

  /**
   * Ends the lease, writing the submission's state with it (PROCESSED, OPEN after a failure, or
   * unchanged when the run stopped for shutdown: the next run anywhere claims it at once). False
   * when the lease was no longer this run's: the state is the new holder's to write.
   */
  async release(state: SubmissionState | null): Promise<boolean> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const n = await this.em().nativeUpdate(
      Submission,
      { id: this.submissionId, runOwner: this.owner },
      { runOwner: null, runHeartbeatAt: null, ...(state ? { state } : {}) },
    );
    if (n !== 1) this.lostIt = true;
    return n === 1;
  }

  /** Stops renewing without touching the row (the database is gone: the lease runs out on its own). */
  abandon(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
