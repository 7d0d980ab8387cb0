/**
 * A sandbox's memory: the limits its isolate gets from the function's configuration, and what it
 * reports having used. Every sandbox is a worker thread of one process, so without limits each
 * heap could grow to V8's default for the whole machine, far past what Lambda would allow the
 * function, and the process's RSS would be the sum of every sandbox's largest moment.
 */
import type { ResourceLimits } from 'node:worker_threads';

/** A sandbox's memory at its highest (its isolate's, not the process's: RSS is shared). */
export interface SandboxMemory {
  /** What the V8 heap held. */
  readonly usedHeapBytes: number;
  /** What V8 had taken from the system for the heap. */
  readonly committedHeapBytes: number;
  /** Buffers and ArrayBuffers, outside the heap. */
  readonly externalBytes: number;
}

/** The larger of two reports, field by field. */
export function highestMemory(a: SandboxMemory | undefined, b: SandboxMemory): SandboxMemory {
  if (!a) return b;
  return {
    usedHeapBytes: Math.max(a.usedHeapBytes, b.usedHeapBytes),
    committedHeapBytes: Math.max(a.committedHeapBytes, b.committedHeapBytes),
    externalBytes: Math.max(a.externalBytes, b.externalBytes),
  };
}

/** V8's young generation is its two semi-spaces and a new large-object space of the same size. */
const YOUNG_GENERATION_PER_SEMI_SPACE = 3;

/**
 * The isolate's heap limits for a function of `memorySizeMb`: the young generation sized by the
 * `--max-semi-space-size` of the function's own `NODE_OPTIONS` (which a worker thread does not
 * read), and the old generation given the rest of the configured memory. So the heap alone can
 * never outgrow the function's memory: a handler that would run out of memory in Lambda fails
 * here too. Lambda counts the whole process (code, Buffers) against the size; a worker thread
 * cannot be limited that way, so this is the closest the offline stack gets, never more lenient
 * than no limit at all.
 */
export function sandboxResourceLimits(memorySizeMb: number, nodeOptions = ''): ResourceLimits {
  const semiSpaceMb = Number(/--max-semi-space-size[= ](\d+)/.exec(nodeOptions)?.[1] ?? Number.NaN);
  if (!Number.isFinite(semiSpaceMb)) return { maxOldGenerationSizeMb: memorySizeMb };
  const maxYoungGenerationSizeMb = YOUNG_GENERATION_PER_SEMI_SPACE * semiSpaceMb;
  return {
    maxYoungGenerationSizeMb,
    maxOldGenerationSizeMb: Math.max(1, memorySizeMb - maxYoungGenerationSizeMb),
  };
}
