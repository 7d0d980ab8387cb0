/**
 * `npm run bench [-- options]`: generates its own data, measures, prints one table in which every
 * figure stands beside a reference measured in the same run and its target (docs/architecture.md, Targets).
 * Figures are reported, never asserted: a missed target is a finding, not a failure.
 *
 *   --large-mib N      size of the large generate file (default 1024)
 *   --quick            skip the 2 GiB peak-RSS runs and the 1 GiB end-to-end run
 *   --only a,b         run only these sections; --skip a,b  run all but these
 *   --e2e-requests N   requests in the local end-to-end run (default 100000)
 *   --cpu-prof DIR     write a V8 CPU profile of every worker into DIR (kept)
 *
 * Sections: prepare, collect, memory, snippet, submit, e2e, cost, bundle, poll, emulator. `cost` runs its own
 * local end-to-end run of --e2e-requests with the functions' S3 requests counted and each Task's CPU
 * time and RSS sampled, apart from `e2e`'s timing run, which nothing samples. Everything generated
 * lives in one temporary directory, removed at the end and on Ctrl-C. Progress goes to stderr,
 * the table to stdout.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { benchBundles } from './bundle.bench.js';
import { benchCollect } from './collect.bench.js';
import { benchCost } from './cost.bench.js';
import { benchEndToEnd } from './e2e.bench.js';
import { benchEmulator } from './emulator.bench.js';
import { benchMemory } from './memory.bench.js';
import { benchPollTransitions } from './poll.bench.js';
import { benchPrepare } from './prepare.bench.js';
import { benchSnippet } from './snippet.bench.js';
import { benchSubmit } from './submit.bench.js';
import { pinnedToOneCpu, profileWorkersInto, stopWorkers, workersTmpDirIn } from './support/child.js';
import { type BenchRow, errorRow, MIB, renderTable } from './support/table.js';
import { LargeFileWorkspace } from './support/workspace.js';

/** Table order: the targets' figures first, then the emulator's own. */
const SECTIONS = [
  'prepare',
  'collect',
  'memory',
  'snippet',
  'submit',
  'e2e',
  'cost',
  'bundle',
  'poll',
  'emulator',
] as const;
type Section = (typeof SECTIONS)[number];
/** What an error row is called when a whole section fails. */
const TITLES: Record<Section, string> = {
  prepare: 'Prepare throughput',
  collect: 'Collect throughput',
  memory: 'Peak RSS',
  snippet: "Google's snippet",
  submit: 'Submit upload',
  e2e: 'Local end-to-end',
  cost: 'AWS cost per million requests',
  bundle: 'Lambda bundles',
  poll: 'Poll transitions',
  emulator: 'emulator',
};
const XL_MIB = 2048;

const { values } = parseArgs({
  options: {
    'large-mib': { type: 'string', default: '1024' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    skip: { type: 'string' },
    'e2e-requests': { type: 'string', default: '100000' },
    'cpu-prof': { type: 'string' },
  },
});

function sectionList(text: string | undefined): Section[] | undefined {
  if (text === undefined) return undefined;
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !(SECTIONS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(`unknown section(s) ${unknown.join(', ')}; sections are ${SECTIONS.join(', ')}`);
  }
  return names as Section[];
}

const largeMib = Number(values['large-mib']);
const e2eRequests = Number(values['e2e-requests']);
if (!(largeMib > 0) || !(e2eRequests > 0))
  throw new Error('--large-mib and --e2e-requests must be positive numbers');
const only = sectionList(values.only);
const skip = sectionList(values.skip) ?? [];
const selected = new Set(
  SECTIONS.filter((section) => (only ?? SECTIONS).includes(section) && !skip.includes(section)),
);
if (values['cpu-prof']) profileWorkersInto(resolve(values['cpu-prof']));

const dir = await mkdtemp(join(tmpdir(), 'gemini-batch-bench-'));
workersTmpDirIn(dir);
const cleanUp = () => {
  stopWorkers();
  rmSync(dir, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanUp();
    process.exit(130);
  });
}

const rows = new Map<Section, BenchRow[]>();
const timings: string[] = [];
const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

/** Runs a section if selected; a section that throws becomes an error row, and the rest go on. */
async function section(name: Section, work: () => Promise<BenchRow[]>, label: string = name): Promise<void> {
  if (!selected.has(name)) return;
  log(`${label}…`);
  const started = performance.now();
  let produced: BenchRow[];
  try {
    produced = await work();
  } catch (error) {
    log(`${label} failed: ${(error as Error).stack ?? error}`);
    produced = [errorRow(label === name ? TITLES[name] : `${TITLES[name]}, ${label}`, error)];
  }
  rows.set(name, [...(rows.get(name) ?? []), ...produced]);
  const ms = performance.now() - started;
  timings.push(`${label} ${(ms / 1000).toFixed(0)} s`);
  log(`${label} done in ${(ms / 1000).toFixed(1)} s`);
}

const started = performance.now();
try {
  await section('poll', benchPollTransitions);
  await section('bundle', () => benchBundles(dir));
  await section('submit', () => benchSubmit());

  if (['prepare', 'collect', 'memory', 'snippet'].some((name) => selected.has(name as Section))) {
    const large = await LargeFileWorkspace.create(dir, largeMib * MIB);
    try {
      await section('prepare', () => benchPrepare(large));
      await section('collect', () => benchCollect(large));
      await section('snippet', () => benchSnippet(large));
      await section('memory', () => benchMemory(large), `memory ${large.label}`);
    } finally {
      await large.dispose();
    }
    if (!values.quick && largeMib < XL_MIB && selected.has('memory')) {
      const xl = await LargeFileWorkspace.create(dir, XL_MIB * MIB);
      try {
        await section('memory', () => benchMemory(xl), `memory ${xl.label}`);
      } finally {
        await xl.dispose();
      }
    }
  }

  // The 1 GiB run is for the whole stack's peak RSS; --quick keeps the timing run only.
  await section('e2e', () => benchEndToEnd(dir, e2eRequests, values.quick ? undefined : largeMib * MIB));
  await section('cost', () => benchCost(dir, e2eRequests));
  await section('emulator', () => benchEmulator({ largeInputBytes: largeMib * MIB, parentDir: dir }));
} finally {
  await rm(dir, { recursive: true, force: true });
}

const table = SECTIONS.flatMap((name) => rows.get(name) ?? []);
console.log(renderTable(table));
console.log('');
console.log(
  `Prepare, Collect and the baselines run in their own processes${pinnedToOneCpu() ? ', each pinned to one CPU (taskset)' : ' (taskset missing: not pinned)'}; ` +
    'the baseline streams the same file, splits newline bytes and JSON.parses each line. ' +
    'Peak RSS is VmHWM of that process.',
);
console.log(
  `Sections: ${timings.join(', ')}; total ${((performance.now() - started) / 60_000).toFixed(1)} min.`,
);
