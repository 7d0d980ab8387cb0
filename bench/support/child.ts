/**
 * Runs a benchmark worker (`bench/workers/<name>.ts`) in its own Node process, so its peak RSS
 * (VmHWM) is its own and not the orchestrator's, and pins it to one CPU (`taskset`) so "one core"
 * means one core: V8's GC helper threads and libuv's pool share it with the JavaScript thread.
 * Worker and parent speak through argv (one JSON document) and one `BENCH_RESULT <json>` line.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const RESULT_PREFIX = 'BENCH_RESULT ';
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STDERR_TAIL_CHARS = 4000;

export interface WorkerOptions {
  /** Pin to one CPU. @default true */
  readonly pinCpu?: boolean;
  /** Extra Node flags, e.g. a heap limit. */
  readonly nodeArgs?: readonly string[];
}

export interface WorkerOutcome<T> {
  /** What the worker reported; undefined when it died first. */
  readonly result: T | undefined;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The end of its stderr: a fatal error (OOM) is reported there. */
  readonly stderr: string;
  /** VmHWM: the worker's own report, or the highest value polled while it ran. */
  readonly peakRssBytes: number;
  /** Spawn to exit, including Node and tsx start-up. */
  readonly wallMs: number;
}

let workerTmpDir: string | undefined;
/** Every worker's TMPDIR from now on: whatever a worker leaves behind is removed with this directory. */
export function workersTmpDirIn(dir: string): void {
  workerTmpDir = dir;
}

let cpuProfDir: string | undefined;
/** `--cpu-prof` for every worker from now on: `.cpuprofile` files land in `dir`. */
export function profileWorkersInto(dir: string): void {
  cpuProfDir = dir;
}

const running = new Set<ChildProcess>();
/** Ends the workers this process started (on Ctrl-C), by their own pids. */
export function stopWorkers(): void {
  for (const child of running) child.kill('SIGKILL');
}

let tasksetAvailable: boolean | undefined;
function pinPrefix(pin: boolean): string[] {
  tasksetAvailable ??= spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;
  if (!pin || !tasksetAvailable) return [];
  return ['taskset', '-c', String(cpus().length - 1)];
}

/** Whether workers really run on one CPU (taskset present): said in the table. */
export function pinnedToOneCpu(): boolean {
  pinPrefix(true);
  return tasksetAvailable === true;
}

async function vmHwmBytes(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

export async function runWorker<T>(
  name: string,
  input: unknown,
  options: WorkerOptions = {},
): Promise<WorkerOutcome<T>> {
  const script = fileURLToPath(new URL(`../workers/${name}.ts`, import.meta.url));
  const profile = cpuProfDir
    ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`]
    : [];
  const command = [
    ...pinPrefix(options.pinCpu ?? true),
    process.execPath,
    ...profile,
    ...(options.nodeArgs ?? []),
    '--import',
    'tsx',
    script,
    JSON.stringify(input),
  ];
  const started = performance.now();
  const [file = '', ...args] = command;
  const env = workerTmpDir ? { ...process.env, TMPDIR: workerTmpDir } : process.env;
  const child = spawn(file, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (data: Buffer) => {
    stdout += data.toString();
  });
  child.stderr?.on('data', (data: Buffer) => {
    stderr = (stderr + data.toString()).slice(-STDERR_TAIL_CHARS);
  });
  let polledPeak = 0;
  const poll = setInterval(() => {
    vmHwmBytes(child.pid).then((bytes) => {
      polledPeak = Math.max(polledPeak, bytes);
    });
  }, 100);
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (code, sig) => resolve([code, sig])),
  );
  clearInterval(poll);
  running.delete(child);
  const wallMs = performance.now() - started;
  const line = stdout
    .split('\n')
    .reverse()
    .find((candidate) => candidate.startsWith(RESULT_PREFIX));
  const result = line
    ? (JSON.parse(line.slice(RESULT_PREFIX.length)) as T & { peakRssBytes?: number })
    : undefined;
  return {
    result,
    exitCode,
    signal,
    stderr,
    peakRssBytes: Math.max(polledPeak, result?.peakRssBytes ?? 0),
    wallMs,
  };
}

/** The worker's result, or an error carrying the reason it has none (exit code, stderr's end). */
export function resultOf<T>(outcome: WorkerOutcome<T>, what: string): T {
  if (outcome.result !== undefined) return outcome.result;
  const lines = outcome.stderr.split('\n').map((line) => line.trim());
  // The thrown error's own line, not the stack under it nor Node's version footer.
  const reason =
    lines.find((line) => /^(\w*Error\b|FATAL ERROR|Uncaught)/.test(line)) ??
    lines.filter((line) => line !== '' && !line.startsWith('at ')).at(-1) ??
    '';
  throw new Error(
    `${what} worker ended (${outcome.signal ?? `exit ${outcome.exitCode}`}) without a result: ${reason}`,
  );
}

// ---- worker side ----

/** The worker's input: the JSON document the parent passed as its one argument. */
export function workerInput<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

/** This process's peak RSS so far (VmHWM). */
export function ownPeakRssBytes(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Sends the worker's result (with its peak RSS) to the parent. */
export function reportResult(result: object): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify({ ...result, peakRssBytes: ownPeakRssBytes() })}\n`);
}
