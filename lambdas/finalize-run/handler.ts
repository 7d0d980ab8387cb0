import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { geminiFromEnvironment } from '../shared/gemini/from-environment.js';
import { objectStoreFromEnvironment } from '../shared/object-store/from-environment.js';
import { priceTableWith } from '../shared/pricing/pricing.js';
import type { RunState } from '../shared/run/state-payloads.js';
import { ENV, requireEnv } from '../shared/runtime/env.js';
import { taskHandler } from '../shared/runtime/lambda-handler.js';
import { logger } from '../shared/runtime/logger.js';
import { runMetrics } from '../shared/runtime/metrics.js';
import { tracedAwsClient } from '../shared/runtime/tracer.js';
import { type FinalizeDeps, finalizeRun } from './finalize-run.js';
import { GEMINI_BATCH_EVENT_SOURCE, RUN_FINISHED_DETAIL_TYPE } from './run-finished-event.js';

const eventBusName = requireEnv(ENV.eventBusName);
const events = tracedAwsClient(new EventBridgeClient({}));

const deps: FinalizeDeps = {
  store: objectStoreFromEnvironment(),
  inputPrefix: requireEnv(ENV.inputPrefix),
  prices: priceTableWith(process.env[ENV.batchPricesJson]),
  gemini: geminiFromEnvironment(),
  publish: async (detail) => {
    const { FailedEntryCount } = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: eventBusName,
            Source: GEMINI_BATCH_EVENT_SOURCE,
            DetailType: RUN_FINISHED_DETAIL_TYPE,
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    if (FailedEntryCount) throw new Error(`EventBridge refused the run-finished event for ${detail.runId}`);
  },
  log: (message, fields) => logger.warn(message, fields),
  metrics: runMetrics,
};

export const handler = taskHandler('finalized run', (run: RunState) => finalizeRun(run, deps));
