/**
 * The bare baseline the cores are held to: stream the file (fs read stream, 64 KiB chunks, as the
 * filesystem store gives the cores), split on newline bytes, decode each line, `JSON.parse` it.
 * Byte splitting, not `readline`: it is the faster of the two (readline decodes whole chunks and
 * splits strings), so it is the stricter baseline, and it is how the cores' `readJsonlLines` splits.
 * No per-line generator, no validation, nothing written.
 */
import { createReadStream } from 'node:fs';
import { reportResult, workerInput } from '../support/child.js';

export interface JsonParseWorkerInput {
  readonly paths: readonly string[];
}

const NEWLINE = 0x0a;
const { paths } = workerInput<JsonParseWorkerInput>();
let lines = 0;
let bytes = 0;
let objects = 0;
const parse = (text: string) => {
  lines += 1;
  if (typeof JSON.parse(text) === 'object') objects += 1;
};

const started = performance.now();
for (const path of paths) {
  let carry: Buffer | undefined;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    let start = 0;
    let end = chunk.indexOf(NEWLINE);
    if (carry && end !== -1) {
      parse(Buffer.concat([carry, chunk.subarray(0, end)]).toString('utf8'));
      carry = undefined;
      start = end + 1;
      end = chunk.indexOf(NEWLINE, start);
    }
    for (; end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      if (end > start) parse(chunk.toString('utf8', start, end));
      start = end + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      carry = carry ? Buffer.concat([carry, rest]) : Buffer.from(rest);
    }
  }
  if (carry && carry.length > 0) parse(carry.toString('utf8'));
}
reportResult({ ms: performance.now() - started, lines, bytes, objects });
