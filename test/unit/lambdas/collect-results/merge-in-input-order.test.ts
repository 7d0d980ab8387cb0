import { describe, expect, it } from 'vitest';
import {
  mergeInInputOrder,
  type SortedSource,
} from '../../../../lambdas/collect-results/merge-in-input-order.js';

interface Item {
  readonly line: number;
  readonly from: string;
}

/**
 * A source named `name` whose items are at `lines`, in batches of `batchSize`, noting in `log` when
 * it starts and closes.
 */
function source(
  name: string,
  firstLine: number,
  lines: readonly number[],
  log: string[] = [],
  failAt?: number,
  batchSize = 1,
): SortedSource<Item> {
  async function* items(): AsyncGenerator<Item[]> {
    log.push(`start ${name}`);
    try {
      for (let from = 0; from < lines.length; from += batchSize) {
        const batch = lines.slice(from, from + batchSize);
        if (failAt !== undefined && batch.includes(failAt)) throw new Error(`${name} failed at ${failAt}`);
        yield batch.map((line) => ({ line, from: name }));
      }
    } finally {
      log.push(`close ${name}`);
    }
  }
  return { firstLine, items: items() };
}

async function merged(sources: readonly SortedSource<Item>[], log: string[] = []): Promise<string[]> {
  const written: string[] = [];
  await mergeInInputOrder(sources, async (item) => {
    written.push(`${item.from}${item.line}`);
    log.push(`write ${item.from}${item.line}`);
  });
  return written;
}

describe('mergeInInputOrder', () => {
  it('interleaves sorted sources into line order', async () => {
    const written = await merged([source('a', 1, [1, 4, 5]), source('b', 2, [2, 3, 6])]);

    expect(written).toEqual(['a1', 'b2', 'b3', 'a4', 'a5', 'b6']);
  });

  it('interleaves batches of several items, each cut where another source comes first', async () => {
    const written = await merged([
      source('a', 1, [1, 4, 5, 8], [], undefined, 3),
      source('b', 2, [2, 3, 6, 7], [], undefined, 4),
      source('c', 5, [5, 9], [], undefined, 2),
    ]);

    expect(written).toEqual(['a1', 'b2', 'b3', 'a4', 'a5', 'c5', 'b6', 'b7', 'a8', 'c9']);
  });

  it('orders the sources by their first line, whatever order they are given in', async () => {
    const written = await merged([source('late', 3, [3, 4]), source('early', 1, [1, 2])]);

    expect(written).toEqual(['early1', 'early2', 'late3', 'late4']);
  });

  it('writes items at the same line in the order of their first lines, then of the list', async () => {
    const written = await merged([
      source('b', 2, [2, 5, 7]),
      source('a', 1, [1, 5, 7]),
      source('c', 2, [2, 5, 7]),
    ]);

    expect(written).toEqual(['a1', 'b2', 'c2', 'a5', 'b5', 'c5', 'a7', 'b7', 'c7']);
  });

  it('writes nothing for no sources, or only empty ones', async () => {
    expect(await merged([])).toEqual([]);
    expect(await merged([source('a', 1, []), source('b', 2, [2]), source('c', 3, [])])).toEqual(['b2']);
  });

  it('starts a source only when the merge nears its first line, one source ahead at most', async () => {
    const log: string[] = [];

    await merged(
      [source('a', 1, [1, 2], log), source('b', 3, [3, 4], log), source('c', 5, [5, 6], log)],
      log,
    );

    expect(log).toEqual([
      'start a',
      'start b',
      'write a1',
      'write a2',
      'close a',
      'start c',
      'write b3',
      'write b4',
      'close b',
      'write c5',
      'write c6',
      'close c',
    ]);
  });

  it('waits for each write before asking a source for its next batch', async () => {
    const asked: number[] = [];
    async function* counted(): AsyncGenerator<Item[]> {
      for (const line of [1, 2, 3]) {
        asked.push(line);
        yield [{ line, from: 'a' }];
      }
    }
    /** How many items had been asked for when each write completed. */
    const askedByThen: number[] = [];

    await mergeInInputOrder([{ firstLine: 1, items: counted() }], async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      askedByThen.push(asked.length);
    });

    expect(askedByThen).toEqual([1, 2, 3]);
  });

  it("throws a source's error and closes every source it opened", async () => {
    const log: string[] = [];

    await expect(
      merged([source('a', 1, [1, 2, 3], log, 3), source('b', 4, [4], log), source('c', 5, [5], log)], log),
    ).rejects.toThrow('a failed at 3');

    expect(log).toEqual(['start a', 'start b', 'write a1', 'write a2', 'close a', 'close b']);
  });

  it("throws write's error, even while the source fetched ahead fails too", async () => {
    const log: string[] = [];
    const sources = [source('a', 1, [1, 2], log), source('b', 3, [3], log, 3)];

    await expect(
      mergeInInputOrder(sources, async () => {
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');

    expect(log).toEqual(['start a', 'start b', 'close b', 'close a']);
  });
});
