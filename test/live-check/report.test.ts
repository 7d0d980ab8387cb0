import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ASSUMPTION_IDS, ASSUMPTIONS } from '../../local/live-check/assumptions.js';
import type { LiveCheckReport } from '../../local/live-check/check.js';
import { DEFAULT_MODELS, MAX_OUTPUT_TOKENS, REQUESTS, worstCaseCost } from '../../local/live-check/plan.js';
import { renderJson, renderMarkdown } from '../../local/live-check/report.js';

describe('the assumptions', () => {
  it('are listed once each, in the order of their ids', () => {
    expect(ASSUMPTIONS.map((a) => a.id)).toEqual([...ASSUMPTION_IDS]);
  });

  it('point at rows that exist in the documents they name', async () => {
    const refs = ASSUMPTIONS.flatMap((a) => a.documented);
    // The emulator's README names each quirk in bold at the start of its row.
    const rowStart = {
      'docs/gemini-protocol.md': (section: string) => `| ${section}`,
      'local/gemini-emulator/README.md': (section: string) => `| **${section}**`,
    } as const;
    for (const doc of Object.keys(rowStart) as (keyof typeof rowStart)[]) {
      const text = await readFile(doc, 'utf8');
      const rows = refs.filter((ref) => ref.doc === doc);
      expect(rows.length, doc).toBeGreaterThan(0);
      for (const ref of rows) expect(text, ref.section).toContain(rowStart[doc](ref.section));
    }
  });

  it('each say why the pipeline needs them and where they are written down', () => {
    for (const a of ASSUMPTIONS) {
      expect(a.why, a.id).not.toBe('');
      expect(a.documented.length + a.sources.length, a.id).toBeGreaterThan(0);
    }
  });
});

describe('the worst-case cost', () => {
  it('counts every request the check may send, each writing its full maxOutputTokens', () => {
    const cost = worstCaseCost(DEFAULT_MODELS);
    const [generate, embed] = cost.lines;
    const generateRequests =
      REQUESTS.fileGenerate.length +
      REQUESTS.inlineGenerate.length +
      REQUESTS.misspelled.length +
      REQUESTS.cancel.length;
    expect(generate).toMatchObject({
      model: 'gemini-2.5-flash-lite',
      requests: generateRequests,
      guessed: false,
    });
    expect(generate?.outputTokens).toBe(generateRequests * MAX_OUTPUT_TOKENS);
    expect(embed).toMatchObject({ model: 'gemini-embedding-001', requests: 6, outputTokens: 0 });
    expect(cost.totalUsd).toBeGreaterThan(0);
    expect(cost.totalUsd).toBeLessThan(0.01);
  });

  it('prices a model missing from the table as the dearest one in it', () => {
    const cheap = worstCaseCost(DEFAULT_MODELS).lines[0];
    const unknown = worstCaseCost({ ...DEFAULT_MODELS, generate: 'gemini-99-ultra' }).lines[0];
    expect(unknown?.guessed).toBe(true);
    expect(unknown?.usd).toBeGreaterThan(cheap?.usd ?? Number.POSITIVE_INFINITY);
  });
});

const report: LiveCheckReport = {
  date: '2026-12-01T08:00:00.000Z',
  sdkVersion: '3.1.0',
  apiVersion: 'v1beta',
  baseUrl: 'https://generativelanguage.googleapis.com',
  endpoint: 'https://generativelanguage.googleapis.com',
  models: DEFAULT_MODELS,
  timeoutMinutes: 60,
  worstCaseCost: worstCaseCost(DEFAULT_MODELS),
  rows: ASSUMPTIONS.map((a, i) => ({
    ...a,
    verdict: i === 0 ? 'contradicted' : 'confirmed',
    evidence: i === 0 ? 'HTTP 400: a | b' : 'fine',
  })),
  counts: { confirmed: ASSUMPTIONS.length - 1, contradicted: 1, 'not seen': 0 },
  cleanup: { deleted: ['batches/a', 'files/b'], left: [{ name: 'files/c', reason: 'HTTP 500: boom' }] },
};

describe('the Markdown report', () => {
  const markdown = renderMarkdown(report);

  it('says when, where, with which SDK, API version and models', () => {
    expect(markdown).toContain('| Date | 2026-12-01T08:00:00.000Z |');
    expect(markdown).toContain('| Endpoint | https://generativelanguage.googleapis.com, API `v1beta` |');
    expect(markdown).toContain('| SDK | `@google/genai` 3.1.0 |');
    expect(markdown).toContain('`gemini-2.5-flash-lite` (generate), `gemini-embedding-001` (embed)');
  });

  it('has one table row per assumption, with a | in evidence escaped', () => {
    const rows = markdown.split('\n').filter((line) => line.startsWith('| `'));
    expect(rows).toHaveLength(ASSUMPTIONS.length);
    expect(rows[0]).toContain('| **contradicted** | HTTP 400: a \\| b |');
    // Six cells: an unescaped | in a cell would make more.
    for (const line of rows) expect(line.split(/(?<!\\)\|/)).toHaveLength(7);
  });

  it('names the row of this repository that states each assumption, and links its public sources', () => {
    const first = markdown.split('\n').find((line) => line.startsWith('| `upload-jsonl-mime`'));
    expect(first).toContain(
      'docs/gemini-protocol.md (“`.jsonl` is not in the SDK”); [python-genai #1547](https://github.com/googleapis/python-genai/issues/1547)',
    );
  });

  it('lists what is still on Gemini', () => {
    expect(markdown).toContain('Clean-up: deleted 1 batch job(s) and 1 file(s).');
    expect(markdown).toContain('- `files/c`: HTTP 500: boom');
  });
});

describe('the JSON report', () => {
  it('is the report, parseable', () => {
    expect(JSON.parse(renderJson(report))).toEqual(report);
  });
});
