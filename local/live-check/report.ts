/** The check's report as Markdown (to paste into a bug report) or JSON (for machines). */
import type { DocReference } from './assumptions.js';
import type { LiveCheckReport, ReportRow } from './check.js';
import { type CostEstimate, formatUsd } from './plan.js';

/** A table cell: no line breaks, and a `|` that does not end the cell. */
const cell = (text: string) => text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');

const describeDoc = (ref: DocReference): string => `${ref.doc} (“${ref.section}”)`;

function documentedIn(row: ReportRow): string {
  return [...row.documented.map(describeDoc), ...row.sources.map((s) => `[${s.label}](${s.url})`)].join('; ');
}

const VERDICT_CELL: Readonly<Record<ReportRow['verdict'], string>> = {
  confirmed: 'confirmed',
  contradicted: '**contradicted**',
  'not seen': 'not seen',
};

/** The cost lines printed before the check starts. */
export function describeCost(cost: CostEstimate): string {
  const lines = cost.lines.map(
    (line) =>
      `  ${line.model}: ${line.requests} requests, ≤ ${line.inputTokens} input + ${line.outputTokens} output tokens, ≤ ${formatUsd(line.usd)}${line.guessed ? ' (not in the price table: priced as the dearest model)' : ''}`,
  );
  return [
    `Worst-case cost: ${formatUsd(cost.totalUsd)} (standard prices of ${cost.pricesAsOf}, no batch discount)`,
    ...lines,
  ].join('\n');
}

export function renderMarkdown(report: LiveCheckReport): string {
  const { counts, models, cleanup } = report;
  const header = [
    '## Gemini Batch API: protocol assumptions checked',
    '',
    '| | |',
    '|---|---|',
    `| Date | ${report.date} |`,
    `| Endpoint | ${cell(report.endpoint)}, API \`${report.apiVersion}\` |`,
    `| SDK | \`@google/genai\` ${report.sdkVersion} |`,
    `| Models | \`${models.generate}\` (generate), \`${models.embed}\` (embed) |`,
    `| Verdicts | ${counts.confirmed} confirmed, ${counts.contradicted} contradicted, ${counts['not seen']} not seen |`,
    `| Timeout | ${report.timeoutMinutes} min |`,
    `| Worst-case cost | ${formatUsd(report.worstCaseCost.totalUsd)} (standard prices of ${report.worstCaseCost.pricesAsOf}) |`,
    '',
  ];
  const table = [
    '| Assumption | Why the pipeline relies on it | Verdict | Evidence | Documented in |',
    '|---|---|---|---|---|',
    ...report.rows.map(
      (row) =>
        `| \`${row.id}\`: ${cell(row.statement)} | ${cell(row.why)} | ${VERDICT_CELL[row.verdict]} | ${cell(row.evidence)} | ${cell(documentedIn(row))} |`,
    ),
    '',
  ];
  const footer: string[] = [];
  if (report.stoppedEarly) {
    const message = report.stoppedEarly.message.replace(/^the/, 'The');
    footer.push(`${message}: rows it did not reach say "not seen".`, '');
  }
  const batches = cleanup.deleted.filter((name) => name.startsWith('batches/')).length;
  const files = cleanup.deleted.length - batches;
  footer.push(`Clean-up: deleted ${batches} batch job(s) and ${files} file(s).`);
  if (cleanup.left.length > 0) {
    footer.push(
      '',
      'Still on Gemini, to delete by hand:',
      ...cleanup.left.map(({ name, reason }) => `- \`${name}\`: ${reason}`),
    );
  }
  return [...header, ...table, ...footer, ''].join('\n');
}

export function renderJson(report: LiveCheckReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
