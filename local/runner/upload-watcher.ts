/**
 * Notices uploads made by any S3 client (the AWS CLI, `gemini-batch submit`) and delivers their
 * "Object Created" event: the local S3 (s3rver) emits no S3 events, as S3 does through
 * EventBridge. Each object version (key and ETag) is delivered once.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { DeliveryOutcome } from './rules.js';

export interface UploadWatcherInput {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly inputPrefix: string;
  readonly notify: (key: string) => Promise<{ delivery: DeliveryOutcome }>;
  /** Told of each run an upload started. */
  readonly onRunStarted?: (runId: string, key: string) => void;
  readonly onError?: (error: Error) => void;
  /** @default 1000 */
  readonly intervalMs?: number;
}

/** Starts watching; the returned function stops it. */
export function watchUploads(input: UploadWatcherInput): () => void {
  const seen = new Set<string>();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      let token: string | undefined;
      do {
        const listed = await input.s3.send(
          new ListObjectsV2Command({
            Bucket: input.bucket,
            Prefix: input.inputPrefix,
            ContinuationToken: token,
          }),
        );
        for (const object of listed.Contents ?? []) {
          const id = `${object.Key}\u0000${object.ETag}`;
          if (!object.Key || seen.has(id)) continue;
          seen.add(id);
          const { delivery } = await input.notify(object.Key);
          if (delivery.runId) input.onRunStarted?.(delivery.runId, object.Key);
        }
        token = listed.NextContinuationToken;
      } while (token);
    })()
      .catch((error: unknown) => input.onError?.(error as Error))
      .finally(() => {
        busy = false;
      });
  }, input.intervalMs ?? 1000);
  return () => clearInterval(timer);
}
