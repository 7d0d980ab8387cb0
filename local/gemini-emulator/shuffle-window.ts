import { seededPermutation } from './seeded-random.js';

/** Lines held back at most, by count and by size, to reorder a result file as it streams. */
const SHUFFLE_WINDOW_LINES = 1024;
const SHUFFLE_WINDOW_CHARS = 8 * 1024 * 1024;

/**
 * Reorders a stream of lines through a bounded window: each line waits among at most
 * `SHUFFLE_WINDOW_LINES` others (and `SHUFFLE_WINDOW_CHARS` characters) and a seeded draw picks which
 * leaves next, so a file of any size is reordered in bounded memory. A file that fits the window is
 * fully shuffled, and the result is never input order when there are two lines or more.
 */
export class ShuffleWindow {
  readonly #random: () => number;
  #held: string[] = [];
  #chars = 0;

  constructor(random: () => number) {
    this.#random = random;
  }

  /** Takes the next line; returns the line that leaves the window, if one must. */
  push(text: string): string | undefined {
    this.#held.push(text);
    this.#chars += text.length;
    // Two lines stay held whatever their size, so the drain below can always change the order.
    const full = this.#held.length > SHUFFLE_WINDOW_LINES || this.#chars > SHUFFLE_WINDOW_CHARS;
    if (this.#held.length <= 2 || !full) return undefined;
    const position = Math.floor(this.#random() * this.#held.length);
    const last = this.#held.length - 1;
    [this.#held[position], this.#held[last]] = [this.#held[last] as string, this.#held[position] as string];
    const line = this.#held.pop() as string;
    this.#chars -= line.length;
    return line;
  }

  /**
   * The lines still held, in a seeded order that is never theirs: so even when every line that
   * left early happened to leave in order, the file as a whole does not come out as it went in.
   */
  drain(): string[] {
    return seededPermutation(this.#held.length, this.#random).map(
      (position) => this.#held[position] as string,
    );
  }
}
