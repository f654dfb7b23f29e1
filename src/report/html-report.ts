/**
 * A standalone HTML report of one QUALS result, for sharing outside VS Code: the summary with the
 * QA pairs' answer spans highlighted, the pair table and each pair's per-token chart. The page has
 * no scripts (its CSP forbids them) and every piece of document and model text is escaped, since
 * summaries and model output are untrusted.
 */
import { describeSettings } from '../scoring/input-notes';
import type { QaPairResult, QualsResult, TextSpan } from '../scoring/result';
import { renderChart } from '../../webview/chart';
import { h, toHtml, escapeHtml, type VChild, type VElement } from '../../webview/vnode';
import { formatNumber, listPairs, readResult, truncationWarning, verdictOf, type Verdicts } from '../../webview/view-model';
import { pairVerdicts, verdictText, type Verdict } from '../scoring/localise';

export interface ReportInput {
  summaryName: string;
  sourceName: string;
  summaryText: string;
  /** When given, each pair shows the source passage where the model found its answer. */
  sourceText?: string;
  result: QualsResult;
  /** Pair threshold (`quals.threshold`): pairs below it are flagged. */
  threshold: number;
  /** Each pair's verdict as the editor showed it (ignored findings included); default: judged from `summaryText`. */
  verdicts?: Verdicts;
  generatedAt: Date;
}

/** Renders the complete HTML document. */
export function renderHtmlReport(input: ReportInput): string {
  const { result, threshold } = input;
  const verdicts = input.verdicts ?? pairVerdicts(result, input.summaryText, { threshold });
  const reading = readResult(result, threshold, verdicts);
  const warning = truncationWarning(result);
  const pairs = listPairs(result.pairs, 'score', false, verdicts);
  // The same line as the CLI report and the explorer, so a shared report says how it was computed.
  const settings = describeSettings(result);
  const body = h('body', {}, [
    h('h1', {}, [`QUALS report: ${input.summaryName}`]),
    h('p', { class: 'meta' }, [
      `Source: ${input.sourceName} · Model: ${result.model.name} (${result.model.format}, ${result.model.device}) · ${result.mode} mode · ${input.generatedAt.toISOString()}`,
    ]),
    settings ? h('p', { class: 'meta meta-settings' }, [`Settings: ${settings}`]) : null,
    h('section', { class: `overall level-${reading.level}` }, [
      result.score !== null ? h('span', { class: 'score' }, [formatNumber(result.score)]) : null,
      h('strong', {}, [` ${reading.label}. `]),
      reading.detail,
    ]),
    warning ? h('p', { class: 'warning' }, [warning]) : null,
    h('h2', {}, ['Summary']),
    h('p', { class: 'legend' }, [
      h('mark', { class: 'flagged' }, ['unsupported answer']),
      ' ',
      h('mark', { class: 'doubtful' }, ['doubtful answer (no finding in the editor)']),
      ' ',
      h('mark', { class: 'supported' }, ['supported answer']),
    ]),
    h('div', { class: 'summary-text' }, highlightSpans(input.summaryText, result.pairs, verdicts)),
    pairs.length > 0 ? h('h2', {}, ['QA pairs (worst first)']) : null,
    pairs.length > 0 ? pairTable(pairs, verdicts) : null,
    ...pairs.map((p) => pairSection(p, verdicts, input.sourceText)),
    h('p', { class: 'footnote' }, [
      'Score of a pair = mean log p of its question + answer tokens given the source minus given the summary (QUALS, Nan et al., ACL 2021). Near 0 = supported; strongly negative = the source does not back it. Hover a bar for its value.',
    ]),
  ]);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`QUALS report: ${input.summaryName}`)}</title>
<style>${REPORT_CSS}</style>
</head>
${toHtml(body)}
</html>
`;
}

const MARK: Record<Verdict, string> = { unsupported: 'flagged', doubtful: 'doubtful', supported: 'supported' };
const RANK: Record<Verdict, number> = { unsupported: 0, doubtful: 1, supported: 2 };

/**
 * Splits the summary at every span boundary and marks each piece covered by answer spans;
 * overlapping spans (e.g. "Tyson Fury" and "Fury") show the worst covering pair: the gravest
 * verdict, then the lowest score.
 */
export function highlightSpans(text: string, pairs: readonly QaPairResult[], verdicts: Verdicts): VChild[] {
  const rank = (p: QaPairResult) => RANK[verdictOf(verdicts, p).verdict];
  const covers = pairs.flatMap((pair) => pair.spans.filter((s) => validSpan(s, text)).map((span) => ({ span, pair })));
  const cuts = [...new Set([0, text.length, ...covers.flatMap((c) => [c.span.start, c.span.end])])].sort((a, b) => a - b);
  const out: VChild[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [a, b] = [cuts[i]!, cuts[i + 1]!];
    const piece = text.slice(a, b);
    const over = covers.filter((c) => c.span.start <= a && c.span.end >= b).map((c) => c.pair);
    if (over.length === 0) {
      out.push(piece);
      continue;
    }
    const worst = over.reduce((w, p) => (rank(p) < rank(w) || (rank(p) === rank(w) && p.score < w.score) ? p : w));
    const title = over.map((p) => `${p.question} → ${p.answer} (${formatNumber(p.score)})`).join('\n');
    out.push(h('a', { href: `#pair-${worst.id}`, class: 'span-link' }, [h('mark', { class: MARK[verdictOf(verdicts, worst).verdict], title }, [piece])]));
  }
  return out;
}

function validSpan(s: TextSpan, text: string): boolean {
  return Number.isInteger(s.start) && Number.isInteger(s.end) && 0 <= s.start && s.start < s.end && s.end <= text.length;
}

function pairTable(pairs: QaPairResult[], verdicts: Verdicts): VElement {
  return h('table', { class: 'pairs' }, [
    h('thead', {}, [h('tr', {}, ['Score', 'Question', 'Summary says', 'Source says', ''].map((c) => h('th', {}, [c])))]),
    h(
      'tbody',
      {},
      pairs.map((p) =>
        h('tr', { class: MARK[verdictOf(verdicts, p).verdict] }, [
          h('td', { class: 'num' }, [formatNumber(p.score)]),
          h('td', {}, [h('a', { href: `#pair-${p.id}` }, [p.question])]),
          h('td', {}, [p.answer]),
          h('td', {}, [p.sourceAnswer ? p.sourceAnswer.text || '(no answer)' : '(not asked)']),
          h('td', {}, [verdictText(verdictOf(verdicts, p))]),
        ]),
      ),
    ),
  ]);
}

function pairSection(pair: QaPairResult, verdicts: Verdicts, sourceText: string | undefined): VElement {
  const v = verdictOf(verdicts, pair);
  const span = pair.sourceAnswer?.span;
  const evidence = span && sourceText !== undefined && validSpan(span, sourceText) ? sourceExcerpt(sourceText, span) : null;
  return h('section', { class: 'pair', id: `pair-${pair.id}` }, [
    h('h3', {}, [`${formatNumber(pair.score)} · ${pair.question}`]),
    h('p', {}, [
      `Summary answer: “${pair.answer}” · Source answer: `,
      pair.sourceAnswer ? `“${pair.sourceAnswer.text}”${pair.sourceAnswer.agrees ? ' (agrees)' : ''}` : '(not asked)',
      v.verdict === 'unsupported' ? h('strong', { class: 'flag' }, [' · not supported by the source']) : null,
      v.verdict === 'doubtful' ? h('span', { class: 'doubt' }, [` · ${verdictText(v)}`]) : null,
    ]),
    evidence ? h('blockquote', { class: 'evidence' }, evidence) : null,
    renderChart(pair, 'logp', { axis: true }),
  ]);
}

/** The source sentence-ish context around the evidence span, with the span marked. */
function sourceExcerpt(text: string, span: TextSpan): VChild[] {
  const from = Math.max(0, span.start - 120);
  const to = Math.min(text.length, span.end + 120);
  return [
    (from > 0 ? '…' : '') + text.slice(from, span.start),
    h('mark', { class: 'supported' }, [text.slice(span.start, span.end)]),
    text.slice(span.end, to) + (to < text.length ? '…' : ''),
  ];
}

const REPORT_CSS = `
:root { color-scheme: light dark; --fg: #1f1f1f; --muted: #616161; --bg: #ffffff; --summary: #1a73e8; --source: #c75c00;
  --bad: #c62828; --bad-bg: #fde0dc; --doubt: #8a5a00; --doubt-bg: #fff0cc; --ok-bg: #e2f3e4; --answer-bg: #fff4c2; --border: #d0d0d0; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e6e6; --muted: #a0a0a0; --bg: #1e1e1e; --summary: #5fa8ff;
  --source: #f0a050; --bad: #ff8a80; --bad-bg: #5a1f1f; --doubt: #ffcc66; --doubt-bg: #4a3a10; --ok-bg: #1f3d24; --answer-bg: #4a4216; --border: #444; } }
body { font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); max-width: 860px; margin: 2em auto; padding: 0 1em; }
.meta, .footnote, .legend { color: var(--muted); font-size: 0.9em; }
.overall { font-size: 1.1em; margin: 1em 0; }
.overall .score { font-size: 1.8em; font-weight: 600; margin-right: 0.3em; }
.level-largely-unsupported strong { color: var(--bad); }
.warning { border-left: 4px solid var(--bad); padding: 4px 8px; }
.summary-text { white-space: pre-wrap; border: 1px solid var(--border); padding: 0.8em; border-radius: 4px; }
mark { color: inherit; border-radius: 2px; padding: 0 1px; }
mark.flagged { background: var(--bad-bg); border-bottom: 2px solid var(--bad); }
mark.doubtful { background: var(--doubt-bg); border-bottom: 2px dashed var(--doubt); }
mark.supported { background: var(--ok-bg); }
a.span-link { color: inherit; text-decoration: none; }
table.pairs { border-collapse: collapse; width: 100%; }
table.pairs th, table.pairs td { border-bottom: 1px solid var(--border); padding: 4px 6px; text-align: left; vertical-align: top; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.flagged td:last-child, .flag { color: var(--bad); }
tr.doubtful td:last-child, .doubt { color: var(--doubt); }
section.pair { border-top: 1px solid var(--border); margin-top: 1.5em; }
blockquote.evidence { margin: 0.5em 0; padding-left: 0.8em; border-left: 3px solid var(--border); color: var(--muted); }
.chart-legend { display: flex; gap: 1em; color: var(--muted); font-size: 0.9em; margin-bottom: 4px; }
.swatch { display: inline-block; width: 10px; height: 10px; vertical-align: middle; }
.legend-answer, .role-answer .token-role { font-weight: 700; }
.token-row { display: grid; grid-template-columns: 1.5em 10em 1fr; gap: 6px; align-items: center; }
.token-row.role-answer { background: var(--answer-bg); }
.token-role { text-align: center; color: var(--muted); }
.token-text { font-family: ui-monospace, monospace; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.token-bars { display: flex; flex-direction: column; gap: 1px; }
.bar-track { display: block; height: 7px; }
.bar { display: block; height: 100%; min-width: 1px; }
.bar-summary { background: var(--summary); }
.bar-source { background: repeating-linear-gradient(135deg, var(--source) 0 3px, transparent 3px 5px); outline: 1px solid var(--source); outline-offset: -1px; }
.chart-axis { display: grid; grid-template-columns: 1.5em 10em 1fr; gap: 6px; align-items: end; color: var(--muted); font-size: 0.85em; font-variant-numeric: tabular-nums; }
.axis-unit { grid-column: 1 / 3; }
.axis-track { grid-column: 3; position: relative; height: 1.4em; border-bottom: 1px solid var(--muted); }
.axis-tick { position: absolute; bottom: 0; transform: translateX(-50%); padding-bottom: 3px; white-space: nowrap; }
.axis-tick.first { transform: none; }
.axis-tick.last { transform: translateX(-100%); }
@media print { .bar, .swatch { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
`;
