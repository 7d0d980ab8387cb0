import {
  DEFAULT_REFUSED_MIME_TYPE,
  type Endpoint,
  type Fault,
  type HttpFault,
  type InterruptUploadFault,
  type JobOutcomeFault,
  type LateResponsesFileFault,
  type RefuseMimeTypeFault,
  type UploadNoFileFault,
  type UploadNotFinalFault,
  validateFault,
} from './faults.js';
import { seededFraction } from './seeded-random.js';

interface ActiveFault {
  readonly id: string;
  readonly fault: Fault;
  remaining: number;
  calls: number;
}

/**
 * The faults active on one emulator instance. Callers ask at the point where a fault would bite;
 * a triggered fault counts down its `times`, and one that is used up disappears.
 */
export class FaultInjector {
  readonly #seed: number;
  #active: ActiveFault[] = [];
  #nextId = 1;
  readonly #fired = new Map<string, number>();

  constructor(seed: number, initial: readonly Fault[] = []) {
    this.#seed = seed;
    for (const fault of initial) this.add(fault);
  }

  /** Activates a fault and returns its id, for `remove()`. */
  add(fault: Fault): string {
    validateFault(fault);
    const id = `fault-${this.#nextId++}`;
    const remaining = 'times' in fault && fault.times !== undefined ? fault.times : Number.POSITIVE_INFINITY;
    const once = fault.kind !== 'line-error' && fault.times === undefined && fault.rate === undefined;
    this.#active.push({ id, fault, remaining: once ? 1 : remaining, calls: 0 });
    return id;
  }

  remove(id: string): boolean {
    const before = this.#active.length;
    this.#active = this.#active.filter((active) => active.id !== id);
    return this.#active.length < before;
  }

  clear(): void {
    this.#active = [];
  }

  /**
   * How often each kind of fault has fired so far, by `kind` (and `kind:endpoint` for HTTP faults):
   * how a test shows that a run really met the roughness it claims to survive.
   */
  fired(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.#fired);
  }

  list(): readonly { id: string; fault: Fault; remaining: number }[] {
    return this.#active.map(({ id, fault, remaining }) => ({ id, fault, remaining }));
  }

  /** The HTTP fault to apply to this call of `endpoint`, if one fires. */
  takeHttpFault(endpoint: Endpoint): HttpFault | undefined {
    return this.#take(
      (fault): fault is HttpFault =>
        (fault.kind === 'http-error' || fault.kind === 'drop-connection') &&
        (fault.endpoint === '*' || fault.endpoint === endpoint),
    );
  }

  /** How many bytes of this upload chunk to accept before the connection dies, if it should. */
  takeUploadInterruption(): number | undefined {
    return this.#take((fault): fault is InterruptUploadFault => fault.kind === 'interrupt-upload')
      ?.afterBytes;
  }

  /** How to answer a finalizing upload chunk whose bytes are all stored, if a fault spoils the answer. */
  takeUploadAnswerFault(): UploadNoFileFault | UploadNotFinalFault | undefined {
    return this.#take(
      (fault): fault is UploadNoFileFault | UploadNotFinalFault =>
        fault.kind === 'upload-not-final' || fault.kind === 'upload-no-file',
    );
  }

  /** Whether a fault refuses an upload of `mimeType` this time. */
  takeMimeTypeRefusal(mimeType: string): boolean {
    const wanted = mimeType.trim().toLowerCase();
    return (
      this.#take(
        (fault): fault is RefuseMimeTypeFault =>
          fault.kind === 'refuse-mime-type' &&
          (fault.mimeType ?? DEFAULT_REFUSED_MIME_TYPE).trim().toLowerCase() === wanted,
      ) !== undefined
    );
  }

  /** How a new job named `displayName` should end, if a fault says otherwise than normally. */
  takeJobOutcome(displayName: string): JobOutcomeFault | undefined {
    return this.#take(
      (fault): fault is JobOutcomeFault =>
        fault.kind === 'job-outcome' &&
        (fault.displayName === undefined || displayName.includes(fault.displayName)),
    );
  }

  /** Whether this read of a succeeded file job named `displayName` leaves its result file out. */
  takeLateResponsesFile(displayName: string): boolean {
    return (
      this.#take(
        (fault): fault is LateResponsesFileFault =>
          fault.kind === 'late-responses-file' &&
          (fault.displayName === undefined || displayName.includes(fault.displayName)),
      ) !== undefined
    );
  }

  /**
   * The error to write instead of a response for one request, if a line-error fault covers it.
   * Pure in the seed, the request's position and its text (never the job's name, which is random),
   * so the same input fails on the same lines in every run.
   */
  lineError(index: number, requestJson: string): { code: number; message: string } | undefined {
    for (const active of this.#active) {
      const { fault } = active;
      if (fault.kind !== 'line-error') continue;
      const byMarker = fault.marker !== undefined && requestJson.includes(fault.marker);
      const byRate =
        fault.rate !== undefined && seededFraction(this.#seed, 'line', index, requestJson) < fault.rate;
      if (byMarker || byRate) {
        // Counted down only when `times` is set: an unbounded line-error stays pure in its inputs.
        if (fault.times !== undefined) {
          active.remaining -= 1;
          if (active.remaining <= 0) this.remove(active.id);
        }
        return {
          code: fault.code ?? 13,
          message: fault.message ?? 'Emulated per-request failure injected by a line-error fault.',
        };
      }
    }
    return undefined;
  }

  #take<T extends Fault>(matches: (fault: Fault) => fault is T): T | undefined {
    for (const active of this.#active) {
      if (!matches(active.fault)) continue;
      active.calls += 1;
      const rate = 'rate' in active.fault ? active.fault.rate : undefined;
      if (rate !== undefined && seededFraction(this.#seed, active.id, active.calls) >= rate) continue;
      active.remaining -= 1;
      if (active.remaining <= 0) this.remove(active.id);
      const { fault } = active;
      const names = [fault.kind, ...('endpoint' in fault ? [`${fault.kind}:${fault.endpoint}`] : [])];
      for (const name of names) this.#fired.set(name, (this.#fired.get(name) ?? 0) + 1);
      return active.fault;
    }
    return undefined;
  }
}
