import type { GeminiBatchApi } from '../gemini/gemini-batch-api.js';
import type { ObjectStore } from '../object-store/object-store.js';
import type { ChunkPlan } from '../run/work-records.js';

/** What moving one chunk from S3 to Gemini's Files API needs. */
export interface UploadChunkDeps {
  readonly store: ObjectStore;
  readonly gemini: GeminiBatchApi;
}

export interface ChunkUpload {
  readonly bucket: string;
  readonly chunk: Pick<ChunkPlan, 'key' | 'bytes'>;
  readonly displayName: string;
  /** An earlier attempt's upload may stand in (see `UploadOptions`). */
  readonly reuseUploaded: boolean;
}

/**
 * Streams the chunk from S3 to Gemini's Files API; the file's name. Nothing is staged on disk and
 * the chunk is never whole in memory: the upload reads S3 while it sends what it read. The size
 * Gemini is told before the first byte is the plan's (what Prepare's writer wrote); an object of
 * another size fails the upload rather than finalizing a wrong file.
 */
export function uploadChunk(
  deps: UploadChunkDeps,
  { bucket, chunk, displayName, reuseUploaded }: ChunkUpload,
): Promise<string> {
  return deps.gemini.uploadJsonl(
    { bytes: chunk.bytes, open: () => deps.store.read(bucket, chunk.key) },
    displayName,
    { reuseUploaded },
  );
}
