import {
  BATCH_METHODS,
  type BatchKind,
  type GeminiBatchApi,
  type ModelInfo,
  type RequestFormat,
} from '../shared/gemini/gemini-batch-api.js';

/** Where a line's model came from: what the person has to change to pick another. */
export type ModelSource = 'stack' | 'metadata' | 'line';

/** Object metadata keys that pick a file's models, by kind (see `MODEL_METADATA`). */
export type ModelMetadataKeys = Readonly<Record<BatchKind, string>>;

const STACK_SETTING: Readonly<Record<BatchKind, string>> = { generate: 'generateModel', embed: 'embedModel' };
const BATCHES: Readonly<Record<BatchKind, string>> = {
  generate: 'generation batches',
  embed: 'embedding batches',
};

/** The verdict of a model that can run its kind of batch. */
const USABLE = '';

/** What is wrong with one model for one kind of batch. */
interface ModelProblem {
  readonly model: string;
  readonly kind: BatchKind;
  readonly unknown: boolean;
}

/**
 * Asks Gemini's Models API about each model a file uses, once per model per invocation, before
 * anything is sent. A model Gemini does not know is refused here because Gemini itself does not
 * refuse it: a batch job on a retired model (`gemini-2.0-flash` after 2026-06-01) is accepted and
 * then ends EXPIRED with no answers (googleapis/python-genai#2439). A model without the batch
 * method for its kind (`BATCH_METHODS`) would be refused at create, after the whole file was split.
 */
export class ModelCheck {
  readonly #gemini: Pick<GeminiBatchApi, 'getModel'>;
  readonly #metadataKeys: ModelMetadataKeys;
  readonly #lookups = new Map<string, Promise<ModelInfo | undefined>>();
  /** Each (kind, format, source, model)'s verdict: a reason, or USABLE. */
  readonly #verdicts = new Map<string, string>();
  #last:
    | {
        readonly kind: BatchKind;
        readonly format: RequestFormat;
        readonly source: ModelSource;
        readonly model: string;
        readonly verdict: string;
      }
    | undefined;
  /** Lines refused per model and kind, for the run's summary. */
  readonly #refused = new Map<string, { problem: ModelProblem; lines: number }>();

  constructor(gemini: Pick<GeminiBatchApi, 'getModel'>, metadataKeys: ModelMetadataKeys) {
    this.#gemini = gemini;
    this.#metadataKeys = metadataKeys;
  }

  /**
   * Why a line of this kind cannot run on `model`, in words a person can act on; undefined when it
   * can. Answers synchronously once the model has been looked up, so the per-line cost of the check
   * is one Map lookup; the first line of each model waits for the Models API. A failed lookup
   * (Gemini unreachable, 429) rejects: the run is retried rather than guessed.
   */
  check(
    kind: BatchKind,
    format: RequestFormat,
    model: string,
    source: ModelSource,
  ): string | undefined | Promise<string | undefined> {
    // Lines of a file mostly share one model: the last verdict answers them without building a key.
    const last = this.#last;
    if (
      last &&
      last.kind === kind &&
      last.format === format &&
      last.source === source &&
      last.model === model
    ) {
      return this.#counted(kind, model, last.verdict);
    }
    const key = `${kind}\u0000${format}\u0000${source}\u0000${model}`;
    const known = this.#verdicts.get(key);
    if (known !== undefined) {
      this.#last = { kind, format, source, model, verdict: known };
      return this.#counted(kind, model, known);
    }
    return this.#lookUp(model).then((info) => {
      const verdict = this.#verdict(kind, format, model, source, info);
      this.#verdicts.set(key, verdict);
      this.#last = { kind, format, source, model, verdict };
      return this.#counted(kind, model, verdict);
    });
  }

  #lookUp(model: string): Promise<ModelInfo | undefined> {
    let lookup = this.#lookups.get(model);
    if (!lookup) {
      lookup = this.#gemini.getModel(model);
      this.#lookups.set(model, lookup);
    }
    return lookup;
  }

  #verdict(
    kind: BatchKind,
    format: RequestFormat,
    model: string,
    source: ModelSource,
    info: ModelInfo | undefined,
  ): string {
    const method = BATCH_METHODS[kind];
    if (info?.supportedGenerationMethods.includes(method)) return USABLE;
    const what = info
      ? `cannot run ${BATCHES[kind]}: Gemini lists no ${method} among its methods (${info.supportedGenerationMethods.join(', ') || 'none'})`
      : `is unknown to Gemini (retired or misspelled): Gemini would accept its batch job and let it expire unanswered`;
    if (!this.#refused.has(`${kind}\u0000${model}`)) {
      this.#refused.set(`${kind}\u0000${model}`, { problem: { model, kind, unknown: !info }, lines: 0 });
    }
    return `model "${model}" (${this.#describeSource(kind, source)}) ${what}; ${this.#howToChoose(kind, format)}`;
  }

  /** The verdict as `check` returns it, counting a refused line. */
  #counted(kind: BatchKind, model: string, verdict: string): string | undefined {
    if (verdict === USABLE) return undefined;
    const refused = this.#refused.get(`${kind}\u0000${model}`);
    if (refused) refused.lines += 1;
    return verdict;
  }

  /** Lines refused for their model so far. */
  get refusedLines(): number {
    let lines = 0;
    for (const entry of this.#refused.values()) lines += entry.lines;
    return lines;
  }

  /**
   * One sentence per refused model, for the run's error when nothing could be sent:
   * `3 lines use gemini-2.0-flash, unknown to Gemini (retired or misspelled)`.
   */
  summary(): string {
    return [...this.#refused.values()]
      .map(({ problem, lines }) => {
        const count = `${lines} line${lines === 1 ? '' : 's'}`;
        const why = problem.unknown
          ? 'unknown to Gemini (retired or misspelled)'
          : `which cannot run ${BATCHES[problem.kind]}`;
        return `${count} use${lines === 1 ? 's' : ''} ${problem.model}, ${why}`;
      })
      .join('; ');
  }

  /** The settings that pick a model for this kind, as the user would write them. */
  settingsFor(kind: BatchKind): string {
    return `the stack's ${STACK_SETTING[kind]} or the object metadata ${this.#metadataKeys[kind]}`;
  }

  #describeSource(kind: BatchKind, source: ModelSource): string {
    if (source === 'stack') return `the stack's ${STACK_SETTING[kind]}`;
    if (source === 'metadata') return `from the object metadata ${this.#metadataKeys[kind]}`;
    return `named by the line`;
  }

  #howToChoose(kind: BatchKind, format: RequestFormat): string {
    const own =
      format === 'openai' ? `the body's "model"` : kind === 'embed' ? `the request's own "model"` : undefined;
    const settings = `the stack's ${STACK_SETTING[kind]}, the object metadata ${this.#metadataKeys[kind]}`;
    return own
      ? `choose a current batch-capable model with ${settings} or ${own}`
      : `choose a current batch-capable model with ${settings.replace(', ', ' or ')}`;
  }
}
