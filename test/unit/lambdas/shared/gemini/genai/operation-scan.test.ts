import { describe, expect, it } from 'vitest';
import { GeminiUnavailableError } from '../../../../../../lambdas/shared/errors.js';
import {
  MAX_OPERATION_ENVELOPE_BYTES,
  type ScanAnswers,
  scanOperation,
} from '../../../../../../lambdas/shared/gemini/genai/operation-scan.js';

/** The bytes of `text`, in pieces of `size` bytes: a stream that splits tokens and characters anywhere. */
async function* piecesOf(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

/** Records what a scan hands over. */
function sink(): ScanAnswers & { readonly seen: [string, unknown][]; readonly starts: string[] } {
  const seen: [string, unknown][] = [];
  const starts: string[] = [];
  return {
    seen,
    starts,
    start: (copy) => starts.push(copy),
    add: (copy, text) => seen.push([copy, JSON.parse(text)]),
  };
}

const tricky = [
  {
    response: {
      candidates: [{ content: { parts: [{ text: 'quote " backslash \\ ] } [ { , : ü 日本 🎉' }] } }],
    },
    metadata: { key: 'k"1' },
  },
  { error: { code: 3, message: '\u005d not a bracket', details: [] }, metadata: { key: 'k2' } },
  { response: { embedding: { values: [1e-7, -0.5, 3, 0] } }, metadata: { key: 'é' } },
  'a string answer',
  42,
  null,
  [],
];

const operation = {
  name: 'batches/x',
  metadata: {
    '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch',
    state: 'BATCH_STATE_SUCCEEDED',
    'odd "name" [': { inlinedResponses: 'a string, not answers' },
    output: { inlinedResponses: { inlinedResponses: tricky } },
  },
  done: true,
  response: { '@type': 'out', inlinedResponses: { inlinedResponses: tricky.slice(0, 2) } },
};

/** The operation with every answer array emptied, as the scan leaves its envelope. */
const envelope = {
  ...operation,
  metadata: { ...operation.metadata, output: { inlinedResponses: { inlinedResponses: [] } } },
  response: { ...operation.response, inlinedResponses: { inlinedResponses: [] } },
};

describe('scanOperation', () => {
  it.each([1, 2, 3, 7, 64, 1 << 20])(
    'hands over every answer of both copies and keeps the rest, in pieces of %i bytes',
    async (size) => {
      for (const text of [JSON.stringify(operation), JSON.stringify(operation, null, 2)]) {
        const answers = sink();
        const scan = await scanOperation(piecesOf(text, size), answers);
        expect(scan.operation).toEqual(envelope);
        expect(answers.starts).toEqual(['metadata', 'response']);
        expect(answers.seen).toEqual([
          ...tricky.map((answer) => ['metadata', answer]),
          ...tricky.slice(0, 2).map((answer) => ['response', answer]),
        ]);
      }
    },
  );

  it('skips the answers without holding them when nobody wants them', async () => {
    const scan = await scanOperation(piecesOf(JSON.stringify(operation), 5));
    expect(scan.operation).toEqual(envelope);
  });

  it('skips inline requests echoed in inputConfig, keeping them out of the envelope', async () => {
    const created = {
      name: 'batches/new',
      metadata: {
        inputConfig: { requests: { requests: [{ request: { contents: [] }, metadata: { key: 'a' } }] } },
      },
    };
    const answers = sink();
    const scan = await scanOperation(piecesOf(JSON.stringify(created), 3), answers);
    expect(scan.operation).toEqual({
      name: 'batches/new',
      metadata: { inputConfig: { requests: { requests: [] } } },
    });
    expect(answers.seen).toEqual([]);
  });

  it('reads an operation without answers as it is', async () => {
    const plain = {
      name: 'batches/p',
      metadata: { state: 'BATCH_STATE_RUNNING', batchStats: { requestCount: '3' } },
    };
    const answers = sink();
    expect((await scanOperation(piecesOf(JSON.stringify(plain), 4), answers)).operation).toEqual(plain);
    expect(answers.starts).toEqual([]);
  });

  it('throws GeminiUnavailableError for an answer cut off in the middle', async () => {
    const text = JSON.stringify(operation);
    await expect(scanOperation(piecesOf(text.slice(0, text.length / 2), 16), sink())).rejects.toThrow(
      GeminiUnavailableError,
    );
  });

  it('refuses an operation whose envelope alone passes its bound', async () => {
    const huge = { name: 'batches/h', metadata: { note: 'x'.repeat(MAX_OPERATION_ENVELOPE_BYTES) } };
    await expect(scanOperation(piecesOf(JSON.stringify(huge), 1 << 16))).rejects.toThrow(
      GeminiUnavailableError,
    );
  });
});
