/**
 * What each Task's function used, for sizing Lambda memory: its CPU time beside its wall time (a
 * function whose CPU time is a small part of its wall time waits on I/O, and a smaller size, less
 * CPU in Lambda, bills less for the same wait) and the RSS it added. The local functions run in
 * worker threads, which Node names `WorkerThread` (the sandbox gives no name) and which Linux accounts apart in
 * `/proc/self/task/<tid>/stat`; nothing else in the benchmark's process runs in a worker thread, so
 * the CPU those threads used during a Task is that Task's function's (the Tasks run one at a time).
 * Counted thread by thread: a sandbox starts on its first invocation and ends when idle, and an
 * earlier function's thread that ends during a Task must not take its whole CPU time off this one's.
 * Their garbage collectors' helper threads are shared by the whole process and are not counted.
 */
import { readdirSync, readFileSync } from 'node:fs';

const SANDBOX_THREAD_NAME = 'WorkerThread';
const TASKS = '/proc/self/task';

/** Clock ticks a second (`getconf CLK_TCK`): 100 on every Linux Node supports. */
const TICKS_PER_SECOND = 100;

/** CPU milliseconds (user + system) each live sandbox thread has used, by thread id; undefined off Linux. */
export function sandboxThreadsCpuMs(): Map<string, number> | undefined {
  let threads: string[];
  try {
    threads = readdirSync(TASKS);
  } catch {
    return undefined;
  }
  const cpuMs = new Map<string, number>();
  for (const tid of threads) {
    try {
      if (readFileSync(`${TASKS}/${tid}/comm`, 'utf8').trim() !== SANDBOX_THREAD_NAME) continue;
      const stat = readFileSync(`${TASKS}/${tid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpuMs.set(tid, ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND);
    } catch {
      // The thread ended between the listing and the read: a sandbox that crashed or was stopped.
    }
  }
  return cpuMs;
}

/** The CPU the sandbox threads alive at `end` used since `start`; a thread born in between, all of its. */
export function cpuMsBetween(start: ReadonlyMap<string, number>, end: ReadonlyMap<string, number>): number {
  let ms = 0;
  for (const [tid, used] of end) ms += used - (start.get(tid) ?? 0);
  return ms;
}

/** How often the process's RSS is read while a Task runs. */
const RSS_SAMPLE_MS = 20;

/** What a {@link TaskMeter} measured, per Task state. */
export interface TaskMeasures {
  /** CPU time of the function sandboxes inside the state, summed over its invocations (Linux only). */
  readonly cpuMs: Record<string, number>;
  /**
   * The most the process's RSS rose above its level at the state's start, over its invocations:
   * an upper bound on the function's working set, since the local S3 and the emulator serving it
   * share the process.
   */
  readonly rssRiseBytes: Record<string, number>;
}

/** Measures each Task's sandbox CPU time and the process's RSS rise, from its start to its end. */
export class TaskMeter {
  private readonly cpuMs: Record<string, number> = {};
  private readonly rssRiseBytes: Record<string, number> = {};
  private readonly running = new Map<
    string,
    { cpu: Map<string, number> | undefined; rss: number; peak: number }
  >();
  private readonly sampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    for (const task of this.running.values()) task.peak = Math.max(task.peak, rss);
  }, RSS_SAMPLE_MS);

  started(state: string): void {
    const rss = process.memoryUsage.rss();
    this.running.set(state, { cpu: sandboxThreadsCpuMs(), rss, peak: rss });
  }

  ended(state: string): void {
    const task = this.running.get(state);
    if (!task) return;
    this.running.delete(state);
    const cpu = sandboxThreadsCpuMs();
    if (task.cpu !== undefined && cpu !== undefined)
      this.cpuMs[state] = (this.cpuMs[state] ?? 0) + cpuMsBetween(task.cpu, cpu);
    const rise = Math.max(task.peak, process.memoryUsage.rss()) - task.rss;
    this.rssRiseBytes[state] = Math.max(this.rssRiseBytes[state] ?? 0, rise);
  }

  measures(): TaskMeasures {
    return { cpuMs: { ...this.cpuMs }, rssRiseBytes: { ...this.rssRiseBytes } };
  }

  stop(): void {
    clearInterval(this.sampler);
  }
}
