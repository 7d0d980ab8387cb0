/**
 * What Collect reads of the chunks' keys files (`shared/run/chunk-keys-file.ts`): the keys a
 * chunk's answers are read against, and which chunk sent each request last.
 */
import type { ObjectStore } from '../shared/object-store/object-store.js';
import { type KeyAtLine, readChunkKeys } from '../shared/run/chunk-keys-file.js';
import type { ChunkPlan } from '../shared/run/work-records.js';

/** Whether a newer chunk sent a line's request again, so that chunk's answer is the one written. */
export type Superseded = (line: number) => boolean;

/**
 * The keys of one chunk, read whole from its keys file each time they are asked for, and not held
 * after: Collect's memory is bounded by the keys of the chunks being read (two while the next
 * chunk's answers are fetched ahead), never by a run's keys.
 */
export interface ChunkKeys {
  /** The `[line, key]` pairs, in chunk order. */
  inOrder(): Promise<readonly KeyAtLine[]>;
  /** Every key of the chunk, for telling its answers from strangers. */
  set(): Promise<Set<string>>;
}

export function chunkKeys(store: ObjectStore, bucket: string, chunk: ChunkPlan): ChunkKeys {
  const inOrder = () => readChunkKeys(store, bucket, chunk);
  return {
    inOrder,
    set: async () => new Set((await inOrder()).map(([, key]) => key)),
  };
}

/**
 * For each chunk, which of its lines a newer chunk sent again (a retry chunk of a later round,
 * see `planRetries`): the newest chunk holding a line writes it, its last attempt.
 *
 * Retry chunks are appended to the plan round by round, so the last chunk read holding a line is
 * the newest. Held as a typed array of the newest chunk's index + 1 by line (0: never sent again),
 * 4 bytes per line up to the highest line sent again: bounded however many keys were retried, and
 * no key strings held.
 */
export async function newerAttempts(
  store: ObjectStore,
  bucket: string,
  chunks: readonly ChunkPlan[],
): Promise<(chunk: ChunkPlan) => Superseded> {
  const retries = chunks.filter((chunk) => (chunk.round ?? 0) > 0);
  if (retries.length === 0) return () => () => false;
  let newest = new Uint32Array(1024);
  for (const chunk of [...retries].sort((a, b) => a.index - b.index)) {
    for (const [line] of await readChunkKeys(store, bucket, chunk)) {
      if (line >= newest.length) {
        const grown = new Uint32Array(Math.max(line + 1, newest.length * 2));
        grown.set(newest);
        newest = grown;
      }
      newest[line] = chunk.index + 1;
    }
  }
  return (chunk) => (line) => {
    const holder = newest[line] ?? 0;
    return holder !== 0 && holder !== chunk.index + 1;
  };
}
