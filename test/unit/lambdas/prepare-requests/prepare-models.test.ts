/** Prepare's check of each line's model, against the Models API and the upload's object metadata. */
import { describe, expect, it } from 'vitest';
import { MODEL_METADATA } from '../../../../lambdas/prepare-requests/file-models.js';
import { EmptyInputError, GeminiUnavailableError } from '../../../../lambdas/shared/errors.js';
import { BATCH_METHODS, type ModelInfo } from '../../../../lambdas/shared/gemini/gemini-batch-api.js';
import { FakeGemini } from '../../../support/fake-gemini.js';
import { BUCKET, INPUT_KEY, MODELS } from '../run-fixtures.js';
import { embed, generate, jsonl, preparation, prepare, REJECTED_KEY } from './prepare-fixture.js';

const batchCapable = (id: string): ModelInfo => ({
  name: `models/${id}`,
  supportedGenerationMethods: ['generateContent', 'countTokens', ...Object.values(BATCH_METHODS)],
});
/** A fake that knows only these models (and every one supports both batch methods unless given). */
const knowing = (...models: (string | ModelInfo)[]) => {
  const gemini = new FakeGemini();
  for (const model of models) {
    const info = typeof model === 'string' ? batchCapable(model) : model;
    gemini.models.set(info.name.replace(/^models\//, ''), info);
  }
  return gemini;
};

describe("prepareRequests: the object metadata that picks a file's models", () => {
  it("takes a file's models from its object metadata, while a line's own model still wins", async () => {
    const prepared = preparation(
      jsonl([
        { key: 'g', request: generate('one') },
        { key: 'e', request: embed('two') },
        { key: 'm', request: { ...embed('three'), model: 'models/own-embedder' } },
      ]),
      {},
      { [MODEL_METADATA.generate]: 'gemini-2.5-pro', [MODEL_METADATA.embed]: 'models/custom-embedder' },
    );
    await prepared.run();
    const { plan } = await prepared.outputs();
    expect(plan?.chunks.map((chunk) => chunk.model)).toEqual([
      'gemini-2.5-pro',
      'custom-embedder',
      'own-embedder',
    ]);
  });

  it('refuses a model in object metadata that is not a model name, naming the metadata', async () => {
    const prepared = preparation(
      jsonl([{ key: 'g', request: generate('one') }]),
      {},
      { [MODEL_METADATA.generate]: 'two words' },
    );
    await expect(prepared.run()).rejects.toMatchObject({
      name: 'InputValidationError',
      message: "object metadata gemini-model must be a model name such as gemini-2.5-flash, got 'two words'",
    });
  });

  it('names the object metadata when the model came from it', async () => {
    const prepared = preparation(
      jsonl([{ key: 'g', request: generate('one') }]),
      { gemini: knowing(MODELS.generate) },
      { [MODEL_METADATA.generate]: 'gemini-2.0-flash' },
    );
    await expect(prepared.run()).rejects.toThrow(EmptyInputError);
    const [entry] = (await prepared.outputs()).rejected;
    expect(entry?.reason).toMatch(
      /^model "gemini-2\.0-flash" \(from the object metadata gemini-model\) is unknown to Gemini/,
    );
  });
});

describe('prepareRequests: the models the lines name', () => {
  it('rejects each line of a model Gemini does not know, naming it and how to pick another, and sends the rest', async () => {
    const { rejected, chunkLines, plan } = await prepare(
      jsonl([
        { key: 'g1', request: generate('one') },
        { key: 'e1', request: embed('two') },
        { key: 'g2', request: generate('three') },
      ]),
      { gemini: knowing(MODELS.embed) },
    );
    const reason = `model "${MODELS.generate}" (the stack's generateModel) is unknown to Gemini (retired or misspelled): Gemini would accept its batch job and let it expire unanswered; choose a current batch-capable model with the stack's generateModel or the object metadata gemini-model`;
    expect(rejected.map(({ line, reason }) => ({ line, reason }))).toEqual([
      { line: 1, reason },
      { line: 3, reason },
    ]);
    expect(chunkLines.flat().map((line) => line.key)).toEqual(['e1']);
    expect(plan).toMatchObject({ acceptedCount: 1, rejectedCount: 2 });
  });

  it('rejects the lines of a model that lacks the batch method for their kind', async () => {
    const onlyInteractive = {
      name: 'models/gemini-live-x',
      supportedGenerationMethods: ['generateContent'],
    };
    const { rejected, chunkLines } = await prepare(
      jsonl([
        { key: 'e1', request: { ...embed('one'), model: 'models/gemini-live-x' } },
        { key: 'g1', request: generate('two') },
      ]),
      { gemini: knowing(MODELS.generate, onlyInteractive) },
    );
    expect(rejected).toEqual([
      {
        line: 1,
        reason:
          'model "gemini-live-x" (named by the line) cannot run embedding batches: Gemini lists no asyncBatchEmbedContent among its methods (generateContent); choose a current batch-capable model with the stack\'s embedModel, the object metadata gemini-embed-model or the request\'s own "model"',
        excerpt: expect.any(String),
      },
    ]);
    expect(chunkLines.flat().map((line) => line.key)).toEqual(['g1']);
  });

  it('checks a model per kind: a generation model is not thereby an embedding model', async () => {
    const generateOnly = { name: 'models/both', supportedGenerationMethods: [BATCH_METHODS.generate] };
    const { rejected } = await prepare(
      jsonl([
        { key: 'e1', request: { ...embed('one'), model: 'both' } },
        {
          custom_id: 'o1',
          method: 'POST',
          url: '/v1/chat/completions',
          body: { model: 'both', messages: [{ role: 'user', content: 'hi' }] },
        },
      ]),
      { gemini: knowing(generateOnly) },
    );
    expect(rejected.map((entry) => entry.line)).toEqual([1]);
  });

  it("points an OpenAI line at its body's model", async () => {
    const prepared = preparation(
      jsonl([
        {
          custom_id: 'o1',
          method: 'POST',
          url: '/v1/embeddings',
          body: { model: 'text-embedding-3-small', input: 'hi' },
        },
      ]),
      { gemini: knowing(MODELS.generate, MODELS.embed) },
    );
    // Its only line is refused, so the run fails with nothing to send.
    await expect(prepared.run()).rejects.toThrow(EmptyInputError);
    const { rejected } = await prepared.outputs();
    expect(rejected[0]?.reason).toBe(
      'model "text-embedding-3-small" (named by the line) is unknown to Gemini (retired or misspelled): Gemini would accept its batch job and let it expire unanswered; choose a current batch-capable model with the stack\'s embedModel, the object metadata gemini-embed-model or the body\'s "model"',
    );
  });

  it('asks the Models API once per distinct model, however many lines use it', async () => {
    const gemini = knowing(MODELS.generate, MODELS.embed);
    const lines = Array.from({ length: 30 }, (_, i) =>
      i % 3 === 0
        ? { key: `o${i}`, request: { ...embed(`${i}`), model: 'own-embedder' } }
        : { key: `k${i}`, request: i % 3 === 1 ? generate(`${i}`) : embed(`${i}`) },
    );
    const { rejected } = await prepare(jsonl(lines), { gemini });
    expect(gemini.calls.getModel).toBe(3);
    expect(rejected).toHaveLength(10);
  });

  it('lets a later line use the key of a line rejected for its model', async () => {
    const { rejected, chunkLines } = await prepare(
      jsonl([
        { key: 'x', request: { ...embed('one'), model: 'gone' } },
        { key: 'x', request: embed('two') },
      ]),
      { gemini: knowing(MODELS.embed) },
    );
    expect(rejected.map((entry) => entry.line)).toEqual([1]);
    expect(chunkLines.flat().map((line) => line.key)).toEqual(['x']);
  });

  it('says in the empty-input error when every line names a model Gemini cannot batch', async () => {
    const prepared = preparation(
      jsonl([
        { key: 'g1', request: generate('one') },
        { key: 'g2', request: generate('two') },
        { key: 'e1', request: embed('three') },
      ]),
      { gemini: knowing('gemini-3.8-flash') },
    );
    await expect(prepared.run()).rejects.toMatchObject({
      name: 'EmptyInputError',
      message: `none of the 3 lines of s3://${BUCKET}/${INPUT_KEY} could be sent: every line names a model Gemini cannot batch: 2 lines use ${MODELS.generate}, unknown to Gemini (retired or misspelled); 1 line uses ${MODELS.embed}, unknown to Gemini (retired or misspelled). Choose current batch-capable models with the stack's generateModel or the object metadata gemini-model for generation, the stack's embedModel or the object metadata gemini-embed-model for embeddings; s3://${BUCKET}/${REJECTED_KEY} gives each line's reason`,
    });
  });

  it('counts model rejections among others in the empty-input error', async () => {
    const prepared = preparation(`not json\n${jsonl([{ key: 'g1', request: generate('one') }])}`, {
      gemini: knowing(MODELS.embed),
    });
    await expect(prepared.run()).rejects.toThrow(
      'could be sent: 1 of them name a model Gemini cannot batch: 1 line uses',
    );
  });

  it('fails the run, to be retried, when the Models API cannot be reached', async () => {
    const gemini = new FakeGemini().failNext('getModel', new GeminiUnavailableError('Gemini is unreachable'));
    await expect(
      preparation(jsonl([{ key: 'g', request: generate('one') }]), { gemini }).run(),
    ).rejects.toThrow(GeminiUnavailableError);
  });
});
