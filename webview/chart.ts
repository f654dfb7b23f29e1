/**
 * The per-token chart of a QA pair (the figure of the QUALS paper, laid out horizontally to fit a
 * side bar): one row per token of question + answer with two bars, likelihood given the summary
 * and given the source. Used by the explorer and by the standalone HTML report.
 */
import type { QaPairResult } from '../src/scoring/result';
import { h, type VElement } from './vnode';
import { formatBarValue, formatNumber, tokenBars, type BarScale } from './view-model';

const ROLE_MARK: Record<string, string> = { question: 'Q', answer: 'A', separator: '', eos: '' };

/** Renders the chart; values appear on hover (title) and to screen readers (aria-label). */
export function renderChart(pair: QaPairResult, scale: BarScale): VElement {
  // The separator and end-of-sequence tokens carry no words of the summary: not charted.
  const words = pair.tokens.filter((t) => t.role === 'question' || t.role === 'answer');
  const rows = tokenBars(words, scale).map((t, i) => {
    const summary = formatBarValue(t.summary, scale);
    const source = formatBarValue(t.source, scale);
    const summaryText = `given summary: ${summary}`;
    const sourceText = `given source: ${source}`;
    const tip = `“${t.label}” (${t.role}) — ${summaryText}; ${sourceText}; difference ${formatNumber(t.delta)}`;
    const pct = (f: number) => `${(f * 100).toFixed(1)}%`;
    return h('div', { class: `token-row role-${t.role}`, role: 'row', title: tip, 'data-token': i }, [
      h('span', { class: 'token-role', role: 'cell', 'aria-label': t.role }, [ROLE_MARK[t.role] ?? '']),
      h('span', { class: 'token-text', role: 'rowheader' }, [t.label]),
      h('span', { class: 'token-bars', role: 'cell', 'aria-label': `${summaryText}; ${sourceText}` }, [
        h('span', { class: 'bar-track' }, [h('span', { class: 'bar bar-summary', title: summaryText }, [], { width: pct(t.summary.fraction) })]),
        h('span', { class: 'bar-track' }, [h('span', { class: 'bar bar-source', title: sourceText }, [], { width: pct(t.source.fraction) })]),
      ]),
    ]);
  });
  return h('figure', { class: 'chart', 'data-pair': pair.id }, [
    h('figcaption', { class: 'chart-legend' }, [
      h('span', { class: 'legend-item' }, [h('span', { class: 'swatch bar-summary', 'aria-hidden': 'true' }), ` ${scale === 'p' ? 'p' : 'log p'} given summary`]),
      h('span', { class: 'legend-item' }, [h('span', { class: 'swatch bar-source', 'aria-hidden': 'true' }), ` ${scale === 'p' ? 'p' : 'log p'} given source`]),
      h('span', { class: 'legend-item' }, [h('span', { class: 'legend-answer' }, ['A']), ' answer token']),
    ]),
    h('div', { class: 'chart-rows', role: 'table', 'aria-label': `Token likelihoods for: ${pair.question}` }, rows),
  ]);
}
