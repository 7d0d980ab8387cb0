import { Heap } from 'heap-js';

/** Something at a line of the input. */
export interface AtLine {
  readonly line: number;
}

/**
 * A source of items already in line order, none before `firstLine`, handed on in batches (never
 * empty): a source reading a file gives every answer of a block at once, so the merge spends one
 * generator step and one await per block, not per line.
 */
export interface SortedSource<T extends AtLine> {
  readonly firstLine: number;
  readonly items: AsyncGenerator<readonly T[]>;
}

interface Head<T> {
  readonly batch: readonly T[];
  /** The next item of `batch` to write. */
  at: number;
  /** The source's place in first-line order: breaks ties between sources at the same line. */
  readonly rank: number;
  readonly source: AsyncGenerator<readonly T[]>;
}

/** Whether `head`'s next item comes before `other`'s. */
const before = <T extends AtLine>(head: Head<T>, other: Head<T>): boolean => {
  const line = (head.batch[head.at] as T).line;
  const otherLine = (other.batch[other.at] as T).line;
  return line < otherLine || (line === otherLine && head.rank < other.rank);
};

/**
 * Hands `write` the items of all sources in line order: each source is already in that order, so
 * a min-heap of their next items yields the next line in O(log sources), and a source's batch is
 * written on without the heap for as long as its items come first (for sources that follow each
 * other, every item). Items at the same line come in the order of their sources' first lines,
 * then of `sources`.
 *
 * Lazy: a source is first asked for a batch only once the merge reaches its first line, except the
 * next one waiting, whose first batch is asked for early so that its fetching overlaps the merge of
 * the sources before it. For sources that follow each other, at most two are open at a time.
 *
 * `write` returns undefined when there is nothing to wait for; a source is asked for its next batch
 * only once every write of the last one is done.
 *
 * If a source or `write` fails, every source is closed (their `finally` blocks run) and the error
 * is thrown.
 */
export async function mergeInInputOrder<T extends AtLine>(
  sources: readonly SortedSource<T>[],
  write: (item: T) => Promise<void> | undefined,
): Promise<void> {
  try {
    await merge(sources, write);
  } catch (error) {
    await Promise.allSettled(sources.map((source) => source.items.return(undefined)));
    throw error;
  }
}

async function merge<T extends AtLine>(
  sources: readonly SortedSource<T>[],
  write: (item: T) => Promise<void> | undefined,
): Promise<void> {
  const waiting = [...sources]
    .sort((a, b) => a.firstLine - b.firstLine)
    .map((source, rank) => ({ ...source, rank }));
  const heads = new Heap<Head<T>>((a, b) => (before(a, b) ? -1 : 1));
  // The next waiting source's first batch, asked for early.
  let prefetched:
    | {
        readonly source: AsyncGenerator<readonly T[]>;
        readonly first: Promise<IteratorResult<readonly T[]>>;
      }
    | undefined;
  const enter = async (source: AsyncGenerator<readonly T[]>, rank: number, first = source.next()) => {
    const next = await first;
    if (!next.done) heads.push({ batch: next.value, at: 0, rank, source });
  };
  const smallestLine = () => {
    const top = heads.peek();
    return top ? (top.batch[top.at] as T).line : Number.POSITIVE_INFINITY;
  };
  for (;;) {
    // Let in every source that could hold the next line: one starting before the smallest line in the heap.
    for (let source = waiting[0]; source && source.firstLine < smallestLine(); source = waiting[0]) {
      waiting.shift();
      const early = prefetched?.source === source.items ? prefetched.first : undefined;
      prefetched = undefined;
      await enter(source.items, source.rank, early);
    }
    const upcoming = waiting[0];
    if (upcoming && !prefetched) {
      const first = upcoming.items.next();
      // Handled when entered; if the merge stops first, its failure must not surface as unhandled.
      first.catch(() => undefined);
      prefetched = { source: upcoming.items, first };
    }
    const head = heads.pop();
    if (!head) return;
    // Write on from this batch while its items come first: before the other sources' next items,
    // and not after the first line of the next source waiting (which would be let in first).
    const rival = heads.peek();
    const nextFirstLine = upcoming?.firstLine ?? Number.POSITIVE_INFINITY;
    do {
      // `write` says undefined when it only buffered: no await, no microtask, for most lines.
      const written = write(head.batch[head.at] as T);
      if (written !== undefined) await written;
      head.at += 1;
    } while (
      head.at < head.batch.length &&
      (head.batch[head.at] as T).line <= nextFirstLine &&
      (rival === undefined || before(head, rival))
    );
    if (head.at < head.batch.length) heads.push(head);
    else await enter(head.source, head.rank);
  }
}

/** Gathers a source of single items into batches of up to `size`, for a source that reads no file. */
export async function* inBatches<T>(items: AsyncIterable<T>, size = 1024): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
