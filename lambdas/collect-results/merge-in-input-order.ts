import { Heap } from 'heap-js';

/** Something at a line of the input. */
export interface AtLine {
  readonly line: number;
}

/** A source of items already in line order, none before `firstLine`. */
export interface SortedSource<T extends AtLine> {
  readonly firstLine: number;
  readonly items: AsyncGenerator<T>;
}

interface Head<T> {
  readonly item: T;
  /** The source's place in first-line order: breaks ties between sources at the same line. */
  readonly rank: number;
  readonly source: AsyncGenerator<T>;
}

/**
 * Hands `write` the items of all sources in line order: each source is already in that order, so
 * a min-heap of their next items yields the next line in O(log sources). Items at the same line
 * come in the order of their sources' first lines, then of `sources`.
 *
 * Lazy: a source is first asked for an item only once the merge reaches its first line, except the
 * next one waiting, whose first item is asked for early so that its fetching overlaps the merge of
 * the sources before it. For sources that follow each other, at most two are open at a time.
 *
 * `write` returns undefined when there is nothing to wait for.
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
  const heads = new Heap<Head<T>>((a, b) => a.item.line - b.item.line || a.rank - b.rank);
  // The next waiting source's first item, asked for early.
  let prefetched:
    | { readonly source: AsyncGenerator<T>; readonly first: Promise<IteratorResult<T>> }
    | undefined;
  const enter = async (source: AsyncGenerator<T>, rank: number, first = source.next()) => {
    const next = await first;
    if (!next.done) heads.push({ item: next.value, rank, source });
  };
  for (;;) {
    // Let in every source that could hold the next line: one starting before the smallest line in the heap.
    for (
      let source = waiting[0];
      source && source.firstLine < (heads.peek()?.item.line ?? Number.POSITIVE_INFINITY);
      source = waiting[0]
    ) {
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
    // `write` says undefined when it only buffered: no await, no microtask, for most lines.
    const written = write(head.item);
    if (written !== undefined) await written;
    await enter(head.source, head.rank);
  }
}
