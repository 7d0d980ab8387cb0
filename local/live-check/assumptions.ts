/**
 * The protocol assumptions the pipeline relies on, as data: what `npm run check:live` asks real
 * Gemini about. Each names why the pipeline needs it and where the assumption is written down, so a
 * row of the report can be traced back to the page (and the public report) it came from.
 */

/**
 * A table row of this repository's documents that states the assumption: `docs/gemini-protocol.md`
 * (the protocol facts the adapter and the emulator rely on) or the emulator's README (the quirks
 * it reproduces, each with its public source or capture date).
 */
export interface DocReference {
  readonly doc: 'docs/gemini-protocol.md' | 'local/gemini-emulator/README.md';
  /** The opening words of the row (for the README, its quirk's name in bold). */
  readonly section: string;
}

/** A public report or page that someone filing a bug can cite. */
export interface PublicSource {
  readonly label: string;
  readonly url: string;
}

export interface Assumption {
  readonly id: AssumptionId;
  /** What Gemini is assumed to do, in one sentence. */
  readonly statement: string;
  /** What in the pipeline breaks, or changes, if it does not. */
  readonly why: string;
  readonly documented: readonly DocReference[];
  readonly sources: readonly PublicSource[];
}

export const ASSUMPTION_IDS = [
  'upload-jsonl-mime',
  'upload-json-mime',
  'upload-answer-has-file',
  'create-file-generate',
  'create-file-embed',
  'create-inline-generate',
  'create-inline-embed',
  'display-name-listed',
  'get-state-stats',
  'get-fields',
  'file-output',
  'file-lines-keyed',
  'inline-generate-keyed',
  'inline-embed-keyed',
  'inline-answers-twice',
  'embed-usage',
  'list-counts',
  'models-api',
  'unknown-field-refused',
  'quota-shape',
  'cancel',
  'delete',
] as const;

export type AssumptionId = (typeof ASSUMPTION_IDS)[number];

const github = (repo: string, kind: 'issues' | 'pull' | 'commit', ref: string): PublicSource => ({
  label: `${repo.split('/')[1]} ${kind === 'commit' ? ref : `#${ref}`}`,
  url: `https://github.com/${repo}/${kind}/${ref}`,
});

const PYTHON_GENAI = 'googleapis/python-genai';
const JS_GENAI = 'googleapis/js-genai';
const GO_GENAI = 'googleapis/go-genai';

const ours = (row: string): DocReference => ({ doc: 'docs/gemini-protocol.md', section: row });
const quirk = (name: string): DocReference => ({ doc: 'local/gemini-emulator/README.md', section: name });

/** Google's reference for the calls a batch makes: create, get, list, cancel, delete. */
const BATCH_API: PublicSource = {
  label: 'Gemini Batch API reference',
  url: 'https://ai.google.dev/api/batch-mode',
};
const INLINE_ORDER = ours('Inline answers come back in another order');
const RESULTS = ours('Results are in `metadata.output`');

/** Every assumption, in the order the report lists them (roughly the order a batch meets them). */
export const ASSUMPTIONS: readonly Assumption[] = [
  {
    id: 'upload-jsonl-mime',
    statement: 'A `.jsonl` upload declared `application/jsonl` is accepted',
    why: 'Submit uploads chunks over 15 MiB with this type; the SDK has none for `.jsonl`',
    documented: [ours('`.jsonl` is not in the SDK')],
    sources: [github(PYTHON_GENAI, 'issues', '1547'), github('google-gemini/cookbook', 'issues', '1008')],
  },
  {
    id: 'upload-json-mime',
    statement: 'The same upload declared `application/json` is accepted too',
    why: 'the fallback type reported to work where `application/jsonl` does not',
    documented: [ours('`.jsonl` is not in the SDK'), quirk('`application/jsonl` works inconsistently')],
    sources: [github(PYTHON_GENAI, 'issues', '1248')],
  },
  {
    id: 'upload-answer-has-file',
    statement: 'The final upload answer carries `file` (with its `files/…` name)',
    why: 'Submit names the upload in `batches.create`; without `file` the SDK returns nothing',
    documented: [
      ours('Uploads are resumable'),
      ours('The final upload answer can be HTTP 200 without `file`'),
    ],
    sources: [github(PYTHON_GENAI, 'issues', '1248'), github(PYTHON_GENAI, 'issues', '1590')],
  },
  {
    id: 'create-file-generate',
    statement: '`batches.create` from an uploaded file returns a `batches/…` name',
    why: 'Submit records that name in the chunk ledger; Poll and Collect use it',
    documented: [],
    sources: [BATCH_API],
  },
  {
    id: 'create-file-embed',
    statement: '`batches.createEmbeddings` from a file (`inputConfig.file_name`) returns a `batches/…` name',
    why: 'embedding chunks over 15 MiB go through this call',
    documented: [ours('`createEmbeddings` sends `inputConfig.file_name`')],
    sources: [BATCH_API],
  },
  {
    id: 'create-inline-generate',
    statement:
      'Raw `POST models/{m}:batchGenerateContent` with `requests.requests[].{request, metadata:{key}}` returns `batches/…`',
    why: "chunks up to 15 MiB go inline over raw REST, users' requests untouched",
    documented: [],
    sources: [BATCH_API],
  },
  {
    id: 'create-inline-embed',
    statement:
      'Raw `POST models/{m}:asyncBatchEmbedContent` with `requests.requests[].{request, metadata:{key}}` returns `batches/…`',
    why: 'inline embedding chunks; the key in `metadata` is what lets answers be matched by key',
    documented: [INLINE_ORDER, quirk('Echoed keys')],
    sources: [BATCH_API],
  },
  {
    id: 'display-name-listed',
    statement: 'The display name is kept, and `batches.list` finds the job by it',
    why: 'after a crash between create and ledger write, Submit finds the job by name instead of paying twice',
    documented: [ours('Batch creation is not idempotent')],
    sources: [BATCH_API],
  },
  {
    id: 'get-state-stats',
    statement:
      '`GET batches/{id}` reports `metadata.state` as `BATCH_STATE_*` and `batchStats` counts as strings',
    why: 'Poll reads state and progress over raw REST (the SDK drops `batchStats`)',
    documented: [ours('The SDK maps `BATCH_STATE_*`')],
    sources: [BATCH_API],
  },
  {
    id: 'get-fields',
    statement:
      '`GET batches/{id}?fields=name,done,metadata(state,batchStats)` answers with those fields only',
    why: 'Poll can read an inline job without its answers, which come back twice and can outgrow a Lambda',
    documented: [RESULTS],
    sources: [
      { label: 'Google APIs system parameters', url: 'https://cloud.google.com/apis/docs/system-parameters' },
    ],
  },
  {
    id: 'file-output',
    statement: 'A succeeded file job names `metadata.output.responsesFile`, and that file downloads',
    why: 'Collect streams each file job’s results from it',
    documented: [RESULTS],
    sources: [BATCH_API],
  },
  {
    id: 'file-lines-keyed',
    statement: "Every result-file line echoes its input line's `key` (order is evidence only)",
    why: 'Collect matches lines by key, never by position',
    documented: [ours('Output lines put `response` before `key`'), INLINE_ORDER],
    sources: [github(PYTHON_GENAI, 'issues', '1909'), github(GO_GENAI, 'issues', '513')],
  },
  {
    id: 'inline-generate-keyed',
    statement: 'Inline generate answers echo `metadata.key` (order is evidence only)',
    why: 'inline answers are matched to keys by the echo; their order has been seen to change',
    documented: [INLINE_ORDER, quirk('Echoed keys')],
    sources: [
      github(JS_GENAI, 'issues', '1191'),
      github(JS_GENAI, 'issues', '1207'),
      github(PYTHON_GENAI, 'issues', '2008'),
      github(GO_GENAI, 'pull', '607'),
    ],
  },
  {
    id: 'inline-embed-keyed',
    statement: 'Inline embedding answers echo `metadata.key` (order is evidence only)',
    why: 'without the echo only position is left to match by, and positions have been seen to move',
    documented: [INLINE_ORDER, quirk('Echoed keys')],
    sources: [github(JS_GENAI, 'commit', '0e95bb7a8'), github(JS_GENAI, 'issues', '1207')],
  },
  {
    id: 'inline-answers-twice',
    statement: 'A succeeded inline job carries its answers twice: in `metadata.output` and in `response`',
    why: 'a GET of an inline job grows with twice its answers; Poll and Collect size their reads for it',
    documented: [RESULTS, quirk('Answers duplicated')],
    sources: [],
  },
  {
    id: 'embed-usage',
    statement: 'Embedding answers carry `usageMetadata.promptTokenCount` or legacy `tokenCount`',
    why: 'the manifest counts tokens and estimates cost per model from them',
    documented: [quirk('Embedding usage per model')],
    sources: [],
  },
  {
    id: 'list-counts',
    statement: "`GET batches/{id}` shows a finished job's final counts (`batches.list` may lag)",
    why: 'Poll reads counts from GET only and never infers completion from counts',
    documented: [quirk('Stale list counts')],
    sources: [],
  },
  {
    id: 'models-api',
    statement: '`GET models/{m}` lists the batch method in `supportedGenerationMethods` for each model used',
    why: "Prepare checks models up front: a retired model's jobs do not fail at create, they expire",
    documented: [ours('A retired model'), quirk('Retired models')],
    sources: [github(PYTHON_GENAI, 'issues', '2439')],
  },
  {
    id: 'unknown-field-refused',
    statement:
      'An inline create with a misspelled request field (`generationConfg`) is refused: 400 `Unknown name`',
    why: 'requests pass through untouched, so one bad line refuses its whole inline job (4xx, not retried)',
    documented: [ours('Unknown request fields are refused'), quirk('Unknown request fields refused')],
    sources: [{ label: 'ProtoJSON: unknown fields', url: 'https://protobuf.dev/programming-guides/json/' }],
  },
  {
    id: 'quota-shape',
    statement: 'A 429 answers `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}}`',
    why: 'the adapter classifies by HTTP status; the workflow retries `GeminiRateLimitError`',
    documented: [ours('Errors are `{"error":{code,message,status}}`'), quirk('Generic 429')],
    sources: [github('langchain4j/langchain4j', 'pull', '3942')],
  },
  {
    id: 'cancel',
    statement: '`batches.cancel` on a pending job is accepted and the job ends `BATCH_STATE_CANCELLED`',
    why: 'a failed run cancels its jobs; this check cancels its own at the timeout',
    documented: [],
    sources: [BATCH_API],
  },
  {
    id: 'delete',
    statement: '`DELETE batches/{id}` and `DELETE files/{id}` succeed with a JSON body',
    why: 'Finalize cleans up Gemini; the SDK parses the body of both as JSON',
    documented: [ours('`files.delete` and `batches.delete` parse the body as JSON')],
    sources: [BATCH_API],
  },
];

/** The assumption called `id`; every id has one (a test checks both lists agree). */
export function assumption(id: AssumptionId): Assumption {
  const found = ASSUMPTIONS.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no assumption ${id}`);
  return found;
}
