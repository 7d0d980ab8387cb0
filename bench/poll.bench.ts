/**
 * Figure 7: Step Functions state transitions for a run whose jobs take 10 minutes, 1 hour or
 * 24 hours, under the deployed backoff schedule (docs/architecture.md, Targets: at most 400 for 24 h), beside
 * what a fixed 30 s poll would cost. Nothing is hard-coded: the states come from the synthesized
 * definition (the happy path from StartAt, and the loop a Choice sends back into), the schedule
 * from the poll function's environment and `Start Polling`'s first wait, and each later wait from
 * `nextWaitSeconds`, the function the Poll Lambda itself uses.
 */
import { nextWaitSeconds, type PollSchedule } from '../lambdas/poll-batch-jobs/poll-batch-jobs.js';
import { ENV } from '../lambdas/shared/runtime/env.js';
import { type BenchRow, count } from './support/table.js';

interface AslStateLike {
  readonly Type: string;
  readonly Next?: string;
  readonly Default?: string;
  readonly Choices?: readonly { readonly Next: string }[];
  readonly Result?: unknown;
  readonly [field: string]: unknown;
}

export interface Shape {
  /** States entered once per run on the way to success. */
  readonly fixed: readonly string[];
  /** States entered once per poll iteration. */
  readonly loop: readonly string[];
  readonly firstWaitSeconds: number;
}

/** The success path (Choices take their default, the way out) and the loop inside it. */
function shapeOf(definition: { StartAt: string; States: Readonly<Record<string, AslStateLike>> }): Shape {
  const path: string[] = [];
  for (let name: string | undefined = definition.StartAt; name && !path.includes(name); ) {
    path.push(name);
    const state: AslStateLike | undefined = definition.States[name];
    name = state?.Type === 'Choice' ? state.Default : state?.Next;
  }
  let loop: string[] = [];
  for (const [index, name] of path.entries()) {
    for (const choice of definition.States[name]?.Choices ?? []) {
      const back = path.indexOf(choice.Next);
      if (back !== -1 && back <= index) loop = path.slice(back, index + 1);
    }
  }
  if (loop.length === 0) throw new Error('the definition has no poll loop (no Choice leads back)');
  const seed = path
    .map((name) => definition.States[name]?.Result)
    .find(
      (result): result is { waitSeconds: number } =>
        typeof (result as { waitSeconds?: unknown })?.waitSeconds === 'number',
    );
  if (!seed) throw new Error('no state seeds $.poll.waitSeconds');
  return { fixed: path.filter((name) => !loop.includes(name)), loop, firstWaitSeconds: seed.waitSeconds };
}

/** Poll iterations until a job that takes `jobSeconds` is seen done, and when that is. */
function iterationsFor(jobSeconds: number, firstWait: number, wait: (attempt: number) => number) {
  let elapsed = 0;
  let iterations = 0;
  for (let next = firstWait; ; next = wait(iterations)) {
    elapsed += next;
    iterations += 1;
    if (elapsed >= jobSeconds) return { iterations, lateSeconds: elapsed - jobSeconds };
  }
}

function pollSchedule(environment: Record<string, unknown>): PollSchedule {
  const read = (name: string, fallback: number) => {
    const value = Number(environment[name]);
    return Number.isFinite(value) && environment[name] !== undefined ? value : fallback;
  };
  // Fallbacks are the poll handler's own defaults, used only if the stack stopped setting them.
  return {
    initialSeconds: read(ENV.pollInitialSeconds, 30),
    maxSeconds: read(ENV.pollMaxSeconds, 600),
    backoffRate: read(ENV.pollBackoffRate, 1.5),
  };
}

/** The deployed poll loop, read from the synthesized stack: its shape and its schedule. */
export interface PollLoop {
  readonly shape: Shape;
  readonly schedule: PollSchedule;
  /** State transitions of a successful run whose jobs take `jobSeconds`, and its polls. */
  transitionsFor(jobSeconds: number): { transitions: number; polls: number; lateSeconds: number };
}

export async function deployedPollLoop(): Promise<PollLoop> {
  const { synthesizePipelineTemplate } = await import('../local/template/synthesize.js');
  const { stateMachineDefinition } = await import('../local/template/state-machine-definition.js');
  const template = synthesizePipelineTemplate();
  const definition = stateMachineDefinition(template);
  const pollFunction = Object.values(template.Resources).find(
    (resource) =>
      resource.Type === 'AWS::Lambda::Function' &&
      ENV.pollMaxSeconds in
        ((resource.Properties?.Environment as { Variables?: object } | undefined)?.Variables ?? {}),
  );
  const schedule = pollSchedule(
    ((pollFunction?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables ?? {}) as Record<string, unknown>,
  );
  const shape = shapeOf(definition as unknown as Parameters<typeof shapeOf>[0]);
  return {
    shape,
    schedule,
    transitionsFor(jobSeconds) {
      const { iterations, lateSeconds } = iterationsFor(jobSeconds, shape.firstWaitSeconds, (attempt) =>
        nextWaitSeconds(attempt, schedule),
      );
      return {
        transitions: shape.fixed.length + shape.loop.length * iterations,
        polls: iterations,
        lateSeconds,
      };
    },
  };
}

export async function benchPollTransitions(): Promise<BenchRow[]> {
  const { shape, schedule, transitionsFor } = await deployedPollLoop();
  const transitions = (iterations: number) => shape.fixed.length + shape.loop.length * iterations;
  const scheduleText = `${shape.firstWaitSeconds} s, ×${schedule.backoffRate}, cap ${schedule.maxSeconds} s`;

  return [
    { label: '10-minute', seconds: 10 * 60 },
    { label: '1-hour', seconds: 60 * 60 },
    { label: '24-hour', seconds: 24 * 60 * 60 },
  ].map(({ label, seconds }) => {
    const backoff = transitionsFor(seconds);
    const fixed = iterationsFor(seconds, 30, () => 30);
    return {
      figure: `Poll transitions, ${label} job (${shape.fixed.length} fixed + ${shape.loop.length} per poll)`,
      value: `${count(backoff.transitions)} (${backoff.polls} polls at ${scheduleText}; seen ${backoff.lateSeconds} s late)`,
      reference: `fixed 30 s poll: ${count(transitions(fixed.iterations))} (${count(fixed.iterations)} polls)`,
      target: label === '24-hour' ? '≤ 400' : 'none (≤ 400 for 24 h)',
    };
  });
}
