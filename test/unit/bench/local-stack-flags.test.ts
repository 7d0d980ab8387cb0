import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LOCAL_STACK_NODE_ARGS } from '../../../bench/support/workspace.js';

describe('the local stack the bench measures', () => {
  it('runs with the Node flags `npm start` gives it', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const startFlags = (manifest.scripts.start ?? '').split(' ').filter((word) => word.startsWith('--max'));

    expect(startFlags).toEqual([...LOCAL_STACK_NODE_ARGS]);
  });
});
