import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { geminiFromEnvironment } from '../shared/gemini/from-environment.js';
import {
  GEMINI_BATCH_EVENT_SOURCE,
  RUN_FINISHED_DETAIL_TYPE,
  type RunState,
} from '../shared/run/state-payloads.js';
import { inputPrefix, store } from '../shared/runtime/aws-clients.js';
import { ENV, requireEnv } from '../shared/runtime/env.js';
import { logger } from '../shared/runtime/logger.js';
import { finalizeRun } from './finalize-run.js';
import { priceTableWith } from './pricing.js';

const eventBusName = requireEnv(ENV.eventBusName);
const prices = priceTableWith(process.env[ENV.batchPricesJson]);
const events = new EventBridgeClient({});

export const handler = async (run: RunState) => {
  logger.appendKeys({ runId: run.runId });
  const finalized = await finalizeRun(run, {
    store,
    inputPrefix,
    prices,
    gemini: () => geminiFromEnvironment(),
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
      if (FailedEntryCount) throw new Error(`EventBridge refused the run-finished event for ${run.runId}`);
    },
    log: (message, fields) => logger.warn(message, fields),
  });
  logger.info('finalized run', { ...finalized });
  return finalized;
};
