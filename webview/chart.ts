/**
 * The per-token chart of a QA pair (the figure of the QUALS paper, laid out horizontally to fit a
 * side bar): one row per token of question + answer with two bars, likelihood given the summary
 * and given the source, under an axis in the scale's units. Used by the explorer and by the
 * standalone HTML report.
 */
import type { QaPairResult } from '../src/scoring/result';
import { h, type VElement } from './vnode';
import { barAxis, chartTokens, formatBarValue, formatNumber, tokenBars, type BarAxis, type BarScale } from './view-model';

const ROLE_MARK: Record<string, string> = { question: 'Q', answer: 'A', separator: '', eos: '' };

export interface ChartOptions {
  /** Chart the separator and end-of-sequence tokens too (they carry no words of the summary). */
  showSpecial?: boolean;
  /** Draw the axis (ticks in the scale's units) above the rows. */
  axis?: boolean;
}

const pct = (f: number) => `${(f * 100).toFixed(1)}%`;

function renderAxis(axis: BarAxis): VElement {
  const last = axis.ticks.length - 1;
  return h('div', { class: 'chart-axis', 'aria-hidden': 'true', title: `${axis.unit}: longer bars = more likely${axis.floor === -Infinity ? '' : ', 0 = certain'}` }, [
    h('span', { class: 'axis-unit' }, [axis.unit]),
    h(
      'span',
      { class: 'axis-track' },
      axis.ticks.map((t, i) => h('span', { class: `axis-tick${i === 0 ? ' first' : i === last ? ' last' : ''}` }, [t.label], { left: pct(t.fraction) })),
    ),
  ]);
}

/** Renders the chart; values appear on hover (title) and to screen readers (aria-label). */
export function renderChart(pair: QaPairResult, scale: BarScale, options: ChartOptions = {}): VElement {
  // The axis spans every token, so showing or hiding the separator never rescales the bars.
  const axis = barAxis(pair.tokens, scale);
  const rows = tokenBars(chartTokens(pair.tokens, options.showSpecial === true), scale, axis).map((t, i) => {
    const summary = formatBarValue(t.summary, scale);
    const source = formatBarValue(t.source, scale);
    const summaryText = `given summary: ${summary}`;
    const sourceText = `given source: ${source}`;
    const tip = `“${t.label}” (${t.role}) — ${summaryText}; ${sourceText}; difference ${formatNumber(t.delta)}`;
    return h('div', { class: `token-row role-${t.role}`, role: 'row', title: tip, 'data-token': i }, [
      h('span', { class: 'token-role', role: 'cell', 'aria-label': t.role }, [ROLE_MARK[t.role] ?? '']),
      h('span', { class: 'token-text', role: 'rowheader' }, [t.label]),
      h('span', { class: 'token-bars', role: 'cell', 'aria-label': `${summaryText}; ${sourceText}` }, [
        h('span', { class: 'bar-track' }, [h('span', { class: 'bar bar-summary', title: summaryText }, [], { width: pct(t.summary.fraction) })]),
        h('span', { class: 'bar-track' }, [h('span', { class: 'bar bar-source', title: sourceText }, [], { width: pct(t.source.fraction) })]),
      ]),
    ]);
  });
  const unit = scale === 'p' ? 'p' : 'log p';
  // Short labels with the pair's means, so the legend replaces a separate line of scores.
  const mean = (v: number, of: string) => h('span', { class: 'legend-mean', title: `mean log p given the ${of}, per token` }, [formatNumber(v)]);
  return h('figure', { class: 'chart', 'data-pair': pair.id }, [
    h('figcaption', { class: 'chart-legend' }, [
      h('span', { class: 'legend-item', title: `${unit} given the summary (solid bars)` }, [
        h('span', { class: 'swatch bar-summary', 'aria-hidden': 'true' }),
        ' given summary ',
        mean(pair.llSummary, 'summary'),
      ]),
      h('span', { class: 'legend-item', title: `${unit} given the source (hatched bars)` }, [
        h('span', { class: 'swatch bar-source', 'aria-hidden': 'true' }),
        ' given source ',
        mean(pair.llSource, 'source'),
      ]),
      h('span', { class: 'legend-item' }, [h('span', { class: 'legend-answer' }, ['A']), ' answer']),
    ]),
    options.axis ? renderAxis(axis) : null,
    h('div', { class: 'chart-rows', role: 'table', 'aria-label': `Token likelihoods for: ${pair.question}` }, rows),
  ]);
}
