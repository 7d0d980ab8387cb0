/**
 * Measuring several ways of doing one thing on a shared machine: each takes turns, the fastest run
 * of each is kept, with CPU time (which the machine's load inflates less than wall time) and memory
 * beside it.
 */

/** This thread's CPU time (Node ≥ 23.9; the bench runs on Node 24, whose types this repo does not carry). */
const threadCpuUsage = (
  process as unknown as { threadCpuUsage(previous?: NodeJS.CpuUsage): NodeJS.CpuUsage }
).threadCpuUsage.bind(process);

/** This thread's JavaScript heap and the buffers it holds (RSS is the whole process's). */
function ownMemory(): number {
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

export interface Measured {
  /** The fastest run. */
  readonly ms: number;
  /** The least CPU time the client's thread spent on a run: what the load of a shared machine does not inflate. */
  readonly cpuMs: number;
  /** The least CPU time of the whole process (S3, receivers, emulator, client) on a run. */
  readonly processCpuMs: number;
  /** The most RSS rose above its level before a run, while it ran. */
  readonly rssRise: number;
  /** The most the client thread's own heap and buffers rose, while it ran: what the function holds. */
  readonly clientRise: number;
}

/**
 * Each of `runs`, `rounds` times, taking turns (one of each per round, not all of one first): the
 * load of a shared machine comes and goes, and turns give each the same chance of a quiet moment.
 */
export async function interleaved<K extends string>(
  rounds: number,
  runs: Record<K, (round: number) => Promise<unknown>>,
): Promise<Record<K, Measured>> {
  const measured = {} as Record<K, Measured>;
  for (let round = 0; round < rounds; round += 1) {
    for (const [name, run] of Object.entries(runs) as [K, (round: number) => Promise<unknown>][]) {
      const before = process.memoryUsage.rss();
      const ownBefore = ownMemory();
      let rssRise = 0;
      let clientRise = 0;
      const sampler = setInterval(() => {
        rssRise = Math.max(rssRise, process.memoryUsage.rss() - before);
        clientRise = Math.max(clientRise, ownMemory() - ownBefore);
      }, 10);
      const started = performance.now();
      const cpuBefore = threadCpuUsage();
      const processCpuBefore = process.cpuUsage();
      try {
        await run(round);
      } finally {
        clearInterval(sampler);
      }
      const ms = performance.now() - started;
      const cpu = threadCpuUsage(cpuBefore);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const processCpu = process.cpuUsage(processCpuBefore);
      const processCpuMs = (processCpu.user + processCpu.system) / 1000;
      const soFar = measured[name];
      measured[name] = {
        ms: Math.min(ms, soFar?.ms ?? ms),
        cpuMs: Math.min(cpuMs, soFar?.cpuMs ?? cpuMs),
        processCpuMs: Math.min(processCpuMs, soFar?.processCpuMs ?? processCpuMs),
        rssRise: Math.max(rssRise, soFar?.rssRise ?? 0),
        clientRise: Math.max(clientRise, soFar?.clientRise ?? 0),
      };
    }
  }
  return measured;
}
