/**
 * The template's two EventBridge rules, offline: an event that matches a rule's pattern is
 * delivered to its target, start-run, as EventBridge would deliver it.
 */
import type { ExecutionStatusChangeEvent, ObjectCreatedEvent } from '../../lambdas/start-run/start-run.js';
import { type EventPattern, matchesEventPattern } from '../template/event-pattern.js';

/** What delivering an "Object Created" event did. */
export interface DeliveryOutcome {
  readonly matched: boolean;
  readonly runId?: string;
  readonly started?: boolean;
}

/** What start-run answers, as far as the rules read it. */
export type StartRunAnswer = { readonly runId?: string; readonly started?: boolean };

/** The rules and their target. */
export interface RulesInput {
  readonly inputPattern: EventPattern;
  readonly executionPattern: EventPattern;
  readonly startRun: (event: ObjectCreatedEvent | ExecutionStatusChangeEvent) => Promise<StartRunAnswer>;
}

/** The rules, ready to deliver events. */
export interface Rules {
  /** Delivers S3's event to the trigger rule. */
  deliverUpload(event: ObjectCreatedEvent): Promise<DeliveryOutcome>;
  /** Delivers an execution's end to the rule on executions; resolves to the salvage run it started. */
  deliverExecutionEnd(event: ExecutionStatusChangeEvent): Promise<string | undefined>;
}

/** The trigger rule on uploads and the salvage rule on executions, both targeting start-run. */
export function rules({ inputPattern, executionPattern, startRun }: RulesInput): Rules {
  return {
    async deliverUpload(event) {
      if (!matchesEventPattern(inputPattern, event)) return { matched: false };
      const { runId, started } = await startRun(event);
      return { matched: true, runId, started };
    },
    async deliverExecutionEnd(event) {
      if (!matchesEventPattern(executionPattern, event)) return undefined;
      const outcome = await startRun(event);
      return outcome.started ? outcome.runId : undefined;
    },
  };
}
