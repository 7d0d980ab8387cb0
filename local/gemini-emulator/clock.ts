/**
 * The emulator's notion of "now". Job progress, job expiry and file expiry are all read from it, so
 * a test can jump 48 hours ahead with `advance()` instead of waiting, and a poller sees the same job
 * state whether it asks once or a thousand times.
 */
export class EmulatorClock {
  #offsetMs = 0;

  /** Milliseconds since the epoch on the emulator's clock. */
  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /** Moves the clock forward; it never goes back, as time-based expiry would make no sense then. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`clock can only move forward by a finite, non-negative number of ms, got ${ms}`);
    }
    this.#offsetMs += ms;
  }

  /** The emulator time as an RFC 3339 timestamp, as Google writes `createTime` and friends. */
  iso(ms: number = this.now()): string {
    return new Date(ms).toISOString();
  }
}

export const HOUR_MS = 60 * 60 * 1000;
