/** What every input-file format shares: the kinds of job, a line's answer, and the codec contract. */
export type BatchKind = 'generate' | 'embed';

export interface RequestStatus {
  readonly code: number;
  readonly message: string;
}

/** Decides, per request, whether a fault replaces its answer with an error. */
export type LineFault = (index: number, requestJson: string) => RequestStatus | undefined;

export type Answer = { readonly response: unknown } | { readonly error: RequestStatus };

/** What one input line asks of the admission check: its model (if it names one) and its tokens. */
export interface LineScan {
  readonly model: string | undefined;
  readonly tokens: number;
}

/** One output line (without its newline), and whether it reports an error. */
export interface LineAnswer {
  readonly text: string;
  readonly failed: boolean;
}

/**
 * An input-file format: how a line is sized up for admission and how it is answered. Gemini's
 * native `{key, request}` lines and OpenAI's `{custom_id, method, url, body}` lines (the
 * OpenAI-compatible layer) share everything else: streaming, counting, faults, the job's life.
 */
export interface LineCodec {
  scanLine(line: string): LineScan;
  /** Answers line `index`; `lineFault` may replace the answer of a readable request with an error. */
  answerLine(line: string, index: number, lineFault: LineFault): LineAnswer;
}
