// The worker side of CpuPool.close(): its own module so that worker threads (and the pool test's
// worker) need not load the pool's (piscina, the logger) to use it.
import type { CpuResponse, CpuTask } from './cpuTasks.js';

/** The worker's answer to a task whose pipeline has closed since the task was queued; null while it is open. */
export function closedAnswer(task: CpuTask): CpuResponse | null {
  return Atomics.load(task.closed, 0) === 0 ? null : { error: { kind: 'closed', message: 'the worker pool was closed (shutdown)' } };
}
