/**
 * Data the benchmarks make for themselves: generate-request files of a given size, and the result
 * file Gemini would write for a prepared chunk. Deterministic, so runs compare.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';

const WORDS = (
  'the a of to and in is for on with as by at from this that be are was it an or which can not ' +
  'review summary product customer order delivery quality price support service account issue ' +
  'please describe explain classify translate extract rewrite answer question context document ' +
  'paragraph sentence language english french german data model result value example detail'
).split(' ');
/** Rare words that are not ASCII: real prompts carry curly quotes, dashes and accents. */
const RARE_WORDS = ['café', 'naïve', 'it’s', '—', '“quoted”', 'Zürich', '€20'];

/** A fixed pseudo-random text from which every prompt and response is a slice. */
function makeCorpus(chars: number): string {
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  const parts: string[] = [];
  let length = 0;
  while (length < chars) {
    const roll = next();
    let word: string;
    if (roll % 400 === 0) word = RARE_WORDS[(roll >> 9) % RARE_WORDS.length] ?? '';
    else word = WORDS[(roll >> 4) % WORDS.length] ?? '';
    // Prompts have line breaks too, which JSON escapes.
    const separator = roll % 97 === 0 ? '\n' : roll % 13 === 0 ? '. ' : ' ';
    parts.push(word, separator);
    length += word.length + separator.length;
  }
  return parts.join('');
}

const CORPUS = makeCorpus(256 * 1024);

/** `length` characters of the corpus, starting somewhere that depends on `index`. */
function textFor(index: number, length: number): string {
  const start = (index * 7919) % (CORPUS.length - length - 1);
  return CORPUS.slice(start, start + length);
}

/** Gathers output into large strings before writing them: generating must not dominate a run. */
class BlockWriter {
  readonly #out: WriteStream;
  #block = '';
  bytes = 0;

  constructor(path: string) {
    this.#out = createWriteStream(path);
  }

  async line(text: string): Promise<void> {
    this.#block += `${text}\n`;
    if (this.#block.length >= 1024 * 1024) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#block === '') return;
    this.bytes += Buffer.byteLength(this.#block);
    const ok = this.#out.write(this.#block);
    this.#block = '';
    if (!ok) await once(this.#out, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.#out.end();
    await finished(this.#out);
  }
}

export interface GeneratedFile {
  readonly path: string;
  readonly bytes: number;
  readonly lines: number;
}

/**
 * Writes `{"key","request"}` generate lines until `limit.bytes` or `limit.requests` is reached;
 * each prompt is `promptChars` long (about 1 KiB lines by default, a typical classification or
 * summarisation request).
 */
export async function writeGenerateRequests(
  path: string,
  limit: { readonly bytes?: number; readonly requests?: number },
  promptChars = 900,
): Promise<GeneratedFile> {
  const out = new BlockWriter(path);
  const maxBytes = limit.bytes ?? Number.POSITIVE_INFINITY;
  const maxRequests = limit.requests ?? Number.POSITIVE_INFINITY;
  let lines = 0;
  while (lines < maxRequests && out.bytes < maxBytes) {
    const request = {
      contents: [{ role: 'user', parts: [{ text: textFor(lines, promptChars) }] }],
      generationConfig: { temperature: 0.2, maxOutputTokens: 512 },
    };
    await out.line(JSON.stringify({ key: `req-${String(lines).padStart(8, '0')}`, request }));
    lines += 1;
  }
  await out.close();
  return { path, bytes: out.bytes, lines };
}

/** Splits a file into lines, one array per read chunk: for generators, not for measured loops. */
export async function* readLineBatches(path: string): AsyncGenerator<string[]> {
  let carry: Buffer | undefined;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    const data = carry ? Buffer.concat([carry, chunk]) : chunk;
    const lines: string[] = [];
    let start = 0;
    for (let end = data.indexOf(10); end !== -1; end = data.indexOf(10, start)) {
      if (end > start) lines.push(data.toString('utf8', start, end));
      start = end + 1;
    }
    carry = start < data.length ? data.subarray(start) : undefined;
    if (lines.length > 0) yield lines;
  }
  if (carry && carry.length > 0) yield [carry.toString('utf8')];
}

const KEY_AT_START = /^\{"key":("(?:[^"\\]|\\.)*")/;

/** The `key` of a `{"key",...}` line: read from the line's start when it is there, else parsed. */
function keyOf(line: string): string | undefined {
  const match = KEY_AT_START.exec(line);
  if (match?.[1]) return JSON.parse(match[1]) as string;
  const value = JSON.parse(line) as { key?: unknown };
  return typeof value.key === 'string' ? value.key : undefined;
}

/** Characters a result line adds around its text: responses come out about as long as requests. */
const RESULT_OVERHEAD_CHARS = 330;

/**
 * Writes the responses file Gemini would return for a batch input file: one
 * `{"key","response":GenerateContentResponse}` line per request, in input order (how Gemini writes
 * them in practice), with `usageMetadata`, each line about as long as its request line.
 */
export async function writeResultsFor(inputPath: string, outputPath: string): Promise<GeneratedFile> {
  const out = new BlockWriter(outputPath);
  let lines = 0;
  for await (const batch of readLineBatches(inputPath)) {
    for (const line of batch) {
      const key = keyOf(line);
      if (key === undefined) continue;
      const text = textFor(lines + 17, Math.max(40, line.length - RESULT_OVERHEAD_CHARS));
      const promptTokenCount = Math.ceil(line.length / 4);
      const candidatesTokenCount = Math.ceil(text.length / 4);
      const response = {
        candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: {
          promptTokenCount,
          candidatesTokenCount,
          totalTokenCount: promptTokenCount + candidatesTokenCount,
          promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokenCount }],
        },
        modelVersion: 'gemini-2.5-flash',
        responseId: `bench-${lines}`,
      };
      await out.line(JSON.stringify({ key, response }));
      lines += 1;
    }
  }
  await out.close();
  return { path: outputPath, bytes: out.bytes, lines };
}
