/**
 * `submit FILE`: uploads the file under the stack's input prefix, as `aws s3 cp` would, with a
 * progress bar; then finds the run the upload started. The run id is derived by start-run from
 * S3's event (its sequencer, which only S3 knows), so the CLI cannot compute it: it looks for the
 * execution whose input names this key and this upload's version or ETag, which is exact.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { Upload } from '@aws-sdk/lib-storage';
import { unquoteEtag } from '../lambdas/shared/object-store/object-store.js';
import { salvageExecutionName } from '../lambdas/start-run/start-run.js';
import { formatBytes, progressBar } from './format.js';
import { findExecution } from './runs.js';
import { CliUsageError, type PipelineStack } from './stack.js';

/** Object metadata the pipeline reads (`gemini-model`, `gemini-max-cost-usd`). */
export interface SubmitOptions {
  readonly model?: string;
  readonly maxCostUsd?: string;
  /** Where the progress bar goes: redrawn in place on a terminal, a line per quarter otherwise. */
  readonly progress: NodeJS.WriteStream;
}

/** How long to look for the run an upload started: EventBridge delivers S3 events within seconds. */
const RUN_START_TIMEOUT_MS = 120_000;
const LOOK_EVERY_MS = 1000;

/** The metadata for the options given: a model must be a model id, a budget a positive number. */
export function submitMetadata(options: Pick<SubmitOptions, 'model' | 'maxCostUsd'>): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (options.model !== undefined) {
    if (!/^(models\/)?[a-z0-9][a-z0-9.-]*$/.test(options.model)) {
      throw new CliUsageError(
        `--model ${JSON.stringify(options.model)} is not a Gemini model id (like gemini-2.5-flash)`,
      );
    }
    metadata['gemini-model'] = options.model;
  }
  if (options.maxCostUsd !== undefined) {
    const usd = Number(options.maxCostUsd);
    if (!Number.isFinite(usd) || usd <= 0 || options.maxCostUsd.trim() === '') {
      throw new CliUsageError(
        `--max-cost ${JSON.stringify(options.maxCostUsd)} is not a positive number of US dollars`,
      );
    }
    metadata['gemini-max-cost-usd'] = String(usd);
  }
  return metadata;
}

/** Refuses, before anything is uploaded, a path that is not a file or would not start a run. */
export async function checkSubmittable(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new CliUsageError(`no such file: ${path}`);
  // The trigger rule matches `.jsonl` names only (case as given): any other upload starts nothing.
  if (!path.endsWith('.jsonl')) {
    throw new CliUsageError(
      `${path}: only files named *.jsonl start runs (the trigger's rule matches that suffix)`,
    );
  }
  return info.size;
}

/** Uploads `path` and returns its key and what identifies this upload. */
async function upload(stack: PipelineStack, path: string, size: number, options: SubmitOptions) {
  const key = `${stack.inputPrefix}${basename(path)}`;
  const upload = new Upload({
    client: stack.s3,
    params: {
      Bucket: stack.bucket,
      Key: key,
      Body: createReadStream(path),
      ContentLength: size,
      Metadata: submitMetadata(options),
    },
  });
  const { progress } = options;
  let lastQuarter = -1;
  const draw = (loaded: number) => {
    const line = `uploading ${basename(path)} ${progressBar(loaded, size)} ${formatBytes(loaded)} of ${formatBytes(size)}`;
    if (progress.isTTY) progress.write(`\r${line}`);
    else {
      const quarter = size === 0 ? 4 : Math.floor((loaded / size) * 4);
      if (quarter > lastQuarter) progress.write(`${line}\n`);
      lastQuarter = quarter;
    }
  };
  // lib-storage reports each part as it is sent (https://docs.aws.amazon.com/AWSJavaScriptSDK/v3/latest/Package/-aws-sdk-lib-storage/).
  upload.on('httpUploadProgress', (event) => draw(event.loaded ?? 0));
  draw(0);
  const done = await upload.done();
  draw(size);
  if (progress.isTTY) progress.write('\n');
  return { key, etag: done.ETag ? unquoteEtag(done.ETag) : undefined, versionId: done.VersionId };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Uploads the file and resolves to the id of the run it started. */
export async function submit(
  stack: PipelineStack,
  path: string,
  options: SubmitOptions,
): Promise<{ runId: string; key: string }> {
  const size = await checkSubmittable(path);
  const uploadedAfter = Date.now();
  const uploaded = await upload(stack, path, size, options);
  const checked = new Set<string>();
  const deadline = Date.now() + RUN_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const page = await stack.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: stack.stateMachineArn, maxResults: 100 }),
    );
    for (const execution of page.executions ?? []) {
      const { name, startDate } = execution;
      if (!name || checked.has(name) || name.endsWith(salvageExecutionName(''))) continue;
      // Newest first: older executions than this upload cannot be its run (a minute of clock skew allowed).
      if (startDate && startDate.getTime() < uploadedAfter - 60_000) break;
      checked.add(name);
      const found = await findExecution(stack, name);
      const input = found?.input;
      if (
        input?.key === uploaded.key &&
        (uploaded.versionId ? input.versionId === uploaded.versionId : input.etag === uploaded.etag)
      ) {
        return { runId: input.runId, key: uploaded.key };
      }
    }
    await sleep(LOOK_EVERY_MS);
  }
  throw new Error(
    `uploaded s3://${stack.bucket}/${uploaded.key}, but no run started within ${RUN_START_TIMEOUT_MS / 1000} s: check the stack's trigger rule and its dead-letter queue`,
  );
}
