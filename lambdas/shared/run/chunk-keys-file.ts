/**
 * A chunk's keys file (`work/<runId>/chunks/<chunk>.keys.jsonl`): one `[line, key]` pair per
 * request, in chunk (= input) order, as Prepare or Poll wrote it. Collect reads a chunk's answers
 * against it; Poll copies the pairs of the requests it sends again.
 */
import { MAX_RESULT_LINE_BYTES } from '../batch-jobs/result-file.js';
import { type JsonlLine, readJsonlLines } from '../jsonl.js';
import type { ObjectStore } from '../object-store/object-store.js';
import type { ChunkPlan } from './work-records.js';

/** A key of a chunk and the input line its request came from. */
export type KeyAtLine = readonly [line: number, key: string];

/**
 * The keys file's lines as text, in order. A pair is a line number and a key of at most 256
 * characters; the bound is a result line's, so one constant bounds every line read back from a job.
 */
export async function readChunkKeyLines(
  store: ObjectStore,
  bucket: string,
  chunk: Pick<ChunkPlan, 'keysKey'>,
): Promise<AsyncGenerator<JsonlLine>> {
  return readJsonlLines(await store.read(bucket, chunk.keysKey), { maxLineBytes: MAX_RESULT_LINE_BYTES });
}

/**
 * The chunk's `[line, key]` pairs, in chunk order, read whole: a chunk's keys are few next to its
 * requests or answers (at most `maxRequests` pairs of a line number and a key), and reading them
 * line by line cost Collect a generator step and a `JSON.parse` per key, in lockstep with its
 * answers. The file's lines become one JSON array parsed at once.
 */
export async function readChunkKeys(
  store: ObjectStore,
  bucket: string,
  chunk: Pick<ChunkPlan, 'keysKey'>,
): Promise<KeyAtLine[]> {
  const pieces: Uint8Array[] = [];
  for await (const piece of await store.read(bucket, chunk.keysKey)) pieces.push(piece);
  // Prepare and Poll write pairs and nothing else: no blank lines.
  const pairs = Buffer.concat(pieces).toString('utf8').trim().replaceAll('\n', ',');
  if (pairs === '') return [];
  try {
    return JSON.parse(`[${pairs}]`) as KeyAtLine[];
  } catch (error) {
    throw new Error(`${chunk.keysKey} is not one [line, key] pair per line: ${(error as Error).message}`);
  }
}
