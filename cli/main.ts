/**
 * `gemini-batch`: submit files to a deployed gemini-batch-pipeline stack and follow their runs.
 * Every command finds the stack by name (`--stack`), uses the standard AWS credential chain and
 * region, prints for people or, with `--json`, one JSON document for scripts, and exits with the
 * codes `npm start` uses.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_STACK_ID } from '../infra/names.js';
import { formatCost, RUN_EXIT_CODES, runSummary, table, USAGE_EXIT_CODE } from './format.js';
import { cancelRun, downloadResults, listRuns } from './manage.js';
import { CliUsageError, findStack } from './stack.js';
import { submit } from './submit.js';
import { describeStatus, type RunStatus, runStatus, watch } from './watch.js';

const HELP = `gemini-batch: run JSONL files of Gemini requests on a deployed gemini-batch-pipeline stack.

Usage:
  gemini-batch submit FILE [--model M] [--max-cost USD] [--wait]
  gemini-batch watch RUN          follow a run to its end: done of total, per job, elapsed, estimate
  gemini-batch status RUN         where a run is now; its summary once it has ended
  gemini-batch ls [--limit N]     recent runs with status, counts and cost (default 20)
  gemini-batch results RUN [--out DIR]   download what the run wrote (default out/<file>/<run>/)
  gemini-batch cancel RUN         stop a run: its Gemini jobs are cancelled, what finished is kept

Options:
  --stack NAME    the stack to use (default ${DEFAULT_STACK_ID})
  --json          print one JSON document instead of text
  --model M       submit: the model for generation lines (object metadata gemini-model)
  --max-cost USD  submit: the run's budget (object metadata gemini-max-cost-usd)
  --wait          submit: follow the run as watch does
  --help          show this text

AWS credentials and region come from the standard chain (AWS_PROFILE, AWS_REGION, SSO, a role).
Against the local stack, use the environment \`npm start\` (with no file) prints.

Exit status of submit --wait, watch and status of an ended run: 0 when every line succeeded,
2 when it completed with errors, 1 when it failed (or the command could not run), 3 when cancelled.`;

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      stack: { type: 'string', default: DEFAULT_STACK_ID },
      json: { type: 'boolean', default: false },
      model: { type: 'string' },
      'max-cost': { type: 'string' },
      wait: { type: 'boolean', default: false },
      limit: { type: 'string', default: '20' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
}

type Values = ReturnType<typeof parse>['values'];

const print = (text: string) => process.stdout.write(`${text}\n`);
const printJson = (value: unknown) => print(JSON.stringify(value, null, 2));

/** The exit code of an ended run: its manifest's, or 1 when it ended without one. */
function exitCodeOf(status: RunStatus): number {
  return status.manifest ? RUN_EXIT_CODES[status.manifest.status] : status.ended ? 1 : 0;
}

function onlyRun(positionals: readonly string[], command: string): string {
  const [run, ...extra] = positionals;
  if (!run) throw new CliUsageError(`${command} needs a run id: gemini-batch ${command} RUN`);
  if (extra.length > 0) throw new CliUsageError(`${command} takes one run id, got ${positionals.length}`);
  return run;
}

async function follow(
  stack: Awaited<ReturnType<typeof findStack>>,
  runId: string,
  json: boolean,
): Promise<number> {
  // Progress is for people: with --json it goes to stderr, and stdout holds the one document.
  const status = await watch(stack, runId, json ? (line) => process.stderr.write(`${line}\n`) : print);
  if (json) printJson(status);
  else print(status.manifest ? runSummary(status.manifest) : describeStatus(status));
  return exitCodeOf(status);
}

async function run(command: string | undefined, positionals: string[], values: Values): Promise<number> {
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new CliUsageError(`--limit ${values.limit} is not a whole number from 1 to 1000`);
  }
  const known = ['submit', 'watch', 'status', 'ls', 'results', 'cancel'];
  if (!command || !known.includes(command)) {
    throw new CliUsageError(
      `${command ? `unknown command "${command}"` : 'no command given'}: use one of ${known.join(', ')} (--help says more)`,
    );
  }
  const stack = await findStack(values.stack, process.env);
  if (command === 'submit') {
    const file = onlyRun(positionals, 'submit');
    const { runId, key } = await submit(stack, file, {
      model: values.model,
      maxCostUsd: values['max-cost'],
      progress: process.stderr,
    });
    if (!values.wait) {
      if (values.json) printJson({ runId, bucket: stack.bucket, key });
      else
        print(`run ${runId} started for s3://${stack.bucket}/${key}\nfollow it: gemini-batch watch ${runId}`);
      return 0;
    }
    if (!values.json) print(`run ${runId} started for s3://${stack.bucket}/${key}`);
    return follow(stack, runId, values.json);
  }
  if (command === 'watch') return follow(stack, onlyRun(positionals, 'watch'), values.json);
  if (command === 'status') {
    const status = await runStatus(stack, onlyRun(positionals, 'status'));
    if (values.json) printJson(status);
    else print(describeStatus(status));
    return exitCodeOf(status);
  }
  if (command === 'ls') {
    const runs = await listRuns(stack, limit);
    if (values.json) printJson(runs);
    else if (runs.length === 0) print(`no runs yet on stack ${stack.name}`);
    else {
      print(
        table(
          ['RUN', 'STATUS', 'DONE', 'COST', 'STARTED', 'FILE'],
          runs.map((r) => [
            r.runId,
            r.status,
            `${r.done}/${r.total}`,
            formatCost(r.cost),
            r.startDate ?? '-',
            r.file,
          ]),
        ),
      );
    }
    return 0;
  }
  if (command === 'results') {
    const files = await downloadResults(stack, onlyRun(positionals, 'results'), values.out);
    if (values.json) printJson({ files });
    else for (const file of files) print(`→ ${file}`);
    return 0;
  }
  const runId = onlyRun(positionals, 'cancel');
  const salvage = await cancelRun(stack, runId, 'cancelled with gemini-batch cancel');
  if (values.json) printJson({ runId, stopped: true, salvageRun: salvage });
  else {
    print(
      `stopped run ${runId}: its salvage run ${salvage} cancels the Gemini jobs still running, keeps what finished and writes the manifest (CANCELLED).\nfollow it: gemini-batch watch ${runId}`,
    );
  }
  return 0;
}

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const { values, positionals } = parse(argv);
    if (values.help) {
      print(HELP);
      return 0;
    }
    const [command, ...rest] = positionals;
    return await run(command, rest, values);
  } catch (error) {
    const { name, message } = error as Error;
    // parseArgs names a bad option by code; both say what to fix without a stack trace.
    const usage =
      error instanceof CliUsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`gemini-batch: ${usage ? message : `${name}: ${message}`}\n`);
    return USAGE_EXIT_CODE;
  }
}
