/**
 * Rendering of the explorer as pure functions of (state from the extension, UI state of the view)
 * to virtual nodes. The view is split into regions (header, toolbar, detail, list) that the
 * webview replaces independently, so changing the sort does not rebuild the header.
 */
import type { ExplorerAction, ExplorerState } from '../src/shared/explorer-messages';
import type { QaPairResult } from '../src/scoring/result';
import { renderChart } from './chart';
import { h, type VChild, type VElement } from './vnode';
import { formatNumber, listPairs, readResult, truncationWarning, verdictOf, type BarScale, type SortOrder, type Verdicts } from './view-model';
import { verdictText } from '../src/scoring/localise';
import { describeSettings } from '../src/scoring/input-notes';

/** What the view itself remembers across hide/show (through the webview's getState/setState). */
export interface UiState {
  selectedPairId: string | null;
  sort: SortOrder;
  flaggedOnly: boolean;
  scale: BarScale;
  /** Chart the separator and end tokens too (off by default: they carry no words of the summary). */
  showSpecial: boolean;
}

export const DEFAULT_UI: UiState = { selectedPairId: null, sort: 'score', flaggedOnly: false, scale: 'logp', showSpecial: false };

/** Reads saved UI state defensively: getState returns whatever an older version stored. */
export function parseUiState(v: unknown): UiState {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  return {
    selectedPairId: typeof o.selectedPairId === 'string' ? o.selectedPairId : null,
    sort: o.sort === 'position' ? 'position' : 'score',
    flaggedOnly: o.flaggedOnly === true,
    scale: o.scale === 'p' ? 'p' : 'logp',
    showSpecial: o.showSpecial === true,
  };
}

export interface Regions {
  header: VElement;
  toolbar: VElement | null;
  list: VElement | null;
  detail: VElement | null;
}

const button = (label: string, action: ExplorerAction, secondary = false) =>
  h('vscode-button', { 'data-action': action, secondary, 'data-focus-key': `action-${action}` }, [label]);

const progress = () => h('vscode-progress-bar', { class: 'progress', 'aria-label': 'Scoring in progress', indeterminate: true });

function message(kind: string, title: string, body: string, actions: VElement[] = [], extra: VChild[] = []): Regions {
  return {
    header: h('section', { class: `empty-state state-${kind}`, 'data-state': kind, role: 'status' }, [
      ...extra,
      h('h2', { class: 'empty-title' }, [title]),
      h('p', { class: 'empty-body' }, [body]),
      actions.length ? h('div', { class: 'actions' }, actions) : null,
    ]),
    toolbar: null,
    list: null,
    detail: null,
  };
}

/** Renders every region for a state; regions that do not apply are null. */
export function renderRegions(state: ExplorerState, ui: UiState): Regions {
  switch (state.kind) {
    case 'no-summary':
      return state.candidate
        ? message('no-summary', `No QUALS result for ${state.candidate.name}`, 'Save it or run the check now. Only summaries paired with a source are checked.', [
            button('Score Summary', 'rescore'),
          ])
        : message('no-summary', 'No active summary', 'Open a summary that is paired with a source document to see its question-answer pairs here.');
    case 'not-paired':
      return message('not-paired', `${state.summary.name} is not paired`, state.message ?? 'QUALS needs the source document this summary was written from.', [
        button('Pair with Source...', 'pairWithSource'),
      ]);
    case 'disabled':
      return message('disabled', `QUALS is off for ${state.summary.name}`, state.message, [button('Enable for This File', 'enableForFile', true)]);
    case 'model-missing':
      return message('model-missing', 'No QAGen model', state.message, [button('Choose Model...', 'chooseModel')]);
    case 'scoring':
      return message(
        'scoring',
        `Checking ${state.summary.name}`,
        state.source ? `Generating questions from the summary and answering them from ${state.source.name}...` : 'Generating questions...',
        [],
        [progress()],
      );
    case 'error':
      return message('error', 'The check failed', state.message, [button('Re-check', 'rescore')]);
    case 'result':
      return renderResult(state, ui);
  }
}

type ResultState = Extract<ExplorerState, { kind: 'result' }>;

function renderResult(state: ResultState, ui: UiState): Regions {
  const { result, settings } = state;
  const reading = readResult(result, settings.threshold, state.verdicts);
  const warning = truncationWarning(result);
  const n = result.pairs.length;
  const header = h('header', { class: `result-header level-${reading.level}`, 'data-state': result.status === 'ok' ? 'result' : 'no-pairs' }, [
    state.rescoring ? progress() : null,
    h('div', { class: 'score-line' }, [
      result.score !== null ? h('span', { class: 'overall-score', title: 'QUALS score: mean over QA pairs of log p(given source) − log p(given summary); near 0 = consistent' }, [formatNumber(result.score)]) : null,
      h('span', { class: 'reading' }, [reading.label]),
    ]),
    h('p', { class: 'reading-detail' }, [reading.detail]),
    h('p', { class: 'meta' }, [
      h('span', { class: 'meta-docs' }, [`${state.summary.name} ↔ ${state.source.name}`]),
      ' · ',
      h('span', { class: 'meta-pairs' }, [`${n} QA ${n === 1 ? 'pair' : 'pairs'}`]),
      ' · ',
      h('span', { class: 'meta-model', title: `${result.model.name} (format ${result.model.format})` }, [`${shortModel(result.model.name)} on ${result.model.device.toUpperCase()}`]),
    ]),
    // Folded: at the side bar's width the settings line alone is taller than a pair.
    result.computedWith
      ? h('details', { class: 'meta meta-settings', 'data-focus-key': 'settings' }, [
          h('summary', { title: 'The effective search and scoring settings, and where each came from' }, ['Settings']),
          describeSettings(result),
        ])
      : null,
    warning ? h('p', { class: 'warning truncation', role: 'note' }, [warning]) : null,
    state.outdated ? h('p', { class: 'warning outdated', role: 'note' }, ['The summary changed after this check; save it (or run QUALS: Score Summary) to update.']) : null,
  ]);
  const toolbar = h('div', { class: 'toolbar' }, [
    n > 0
      ? h('vscode-single-select', { 'data-control': 'sort', 'aria-label': 'Sort QA pairs', 'data-focus-key': 'sort' }, [
          h('vscode-option', { value: 'score', selected: ui.sort === 'score' }, ['Worst first']),
          h('vscode-option', { value: 'position', selected: ui.sort === 'position' }, ['Summary order']),
        ])
      : null,
    n > 0 ? h('vscode-checkbox', { 'data-control': 'flagged', checked: ui.flaggedOnly, 'data-focus-key': 'flagged' }, ['Only flagged']) : null,
    // "Copy as JSON" and "Save report..." are the view's title-bar actions (package.json), not repeated here.
  ]);
  if (n === 0) return { header, toolbar: null, list: null, detail: null };
  const pairs = listPairs(result.pairs, ui.sort, ui.flaggedOnly, state.verdicts);
  const selected = selectedPair(state, ui);
  const list = h(
    'div',
    {
      class: 'pair-list',
      role: 'listbox',
      tabindex: 0,
      'aria-label': 'QA pairs',
      'aria-activedescendant': selected && pairs.includes(selected) ? `pair-${selected.id}` : null,
      'data-focus-key': 'pairs',
    },
    pairs.length > 0 ? pairs.map((p) => renderPairRow(p, p === selected, state.verdicts)) : [h('p', { class: 'list-empty' }, ['No flagged pairs: every QA pair is supported by the source.'])],
  );
  const detail = selected ? renderDetail(selected, ui) : h('p', { class: 'detail-hint' }, ['Select a QA pair to see its per-token evidence.']);
  return { header, toolbar, list, detail };
}

/** The selected pair, if it still exists in the result (a new result may have other pairs). */
export function selectedPair(state: ExplorerState, ui: UiState): QaPairResult | null {
  if (state.kind !== 'result' || ui.selectedPairId === null) return null;
  return state.result.pairs.find((p) => p.id === ui.selectedPairId) ?? null;
}

const BADGE = { unsupported: 'flag', doubtful: 'doubt', supported: 'ok' } as const;

function renderPairRow(pair: QaPairResult, selected: boolean, verdicts: Verdicts): VElement {
  const v = verdictOf(verdicts, pair);
  const rowClass = v.verdict === 'unsupported' ? ' flagged' : v.verdict === 'doubtful' ? ' doubtful' : '';
  const sa = pair.sourceAnswer;
  return h('div', { class: `pair${rowClass}${selected ? ' selected' : ''}`, role: 'option', id: `pair-${pair.id}`, 'aria-selected': selected ? 'true' : 'false', 'data-pair': pair.id, title: 'Click to select the answer in the summary' }, [
    h('div', { class: 'pair-head' }, [
      h('span', { class: 'pair-score', title: 'log p given source − log p given summary (mean per token)' }, [formatNumber(pair.score)]),
      h('span', { class: `badge ${BADGE[v.verdict]}`, 'data-verdict': v.verdict, title: verdictText(v) }, [v.verdict]),
    ]),
    v.verdict === 'doubtful' ? h('div', { class: 'verdict-note' }, [verdictText(v)]) : null,
    h('div', { class: 'question' }, [pair.question]),
    h('div', { class: 'answer-line' }, [h('span', { class: 'label' }, ['Summary: ']), h('span', { class: 'answer summary-answer' }, [pair.answer])]),
    h('div', { class: 'answer-line' }, [
      h('span', { class: 'label' }, ['Source: ']),
      sa ? h('span', { class: `answer source-answer${sa.agrees ? ' agrees' : ''}` }, [sa.text || '(no answer)']) : h('span', { class: 'answer source-answer none' }, ['(not asked)']),
      sa?.agrees ? h('span', { class: 'agree-mark', title: 'The source gives the same answer' }, [' ✓']) : null,
    ]),
  ]);
}

function renderDetail(pair: QaPairResult, ui: UiState): VElement {
  // Selecting a row already shows the pair in the summary: the only action here is the source's.
  return h('section', { class: 'pair-detail', 'aria-label': 'Selected QA pair', 'data-pair': pair.id }, [
    h('div', { class: 'detail-head' }, [
      h('span', { class: 'detail-question' }, [pair.question]),
      h('vscode-button', { secondary: true, 'data-pair-action': 'showInSource', 'data-pair': pair.id, disabled: !pair.sourceAnswer?.span, 'data-focus-key': 'source' }, ['Show in source']),
    ]),
    renderChart(pair, ui.scale, { showSpecial: ui.showSpecial, axis: true }),
    // Below the rows: secondary, and the chart's first rows stay in view above the list.
    h('div', { class: 'chart-controls' }, [
      h('vscode-radio-group', { class: 'scale', 'data-control': 'scale', 'aria-label': 'Bar scale', 'data-focus-key': 'scale' }, [
        h('vscode-radio', { name: 'scale', value: 'logp', checked: ui.scale === 'logp' }, ['log p']),
        h('vscode-radio', { name: 'scale', value: 'p', checked: ui.scale === 'p' }, ['p']),
      ]),
      h('vscode-checkbox', { 'data-control': 'special', checked: ui.showSpecial, 'data-focus-key': 'special' }, ['Separator and end tokens']),
    ]),
  ]);
}

/** A hub id or a folder path, shortened to its last segment for the header. */
function shortModel(name: string): string {
  const parts = name.split(/[\\/]/).filter(Boolean);
  return parts.length > 2 ? parts[parts.length - 1]! : name;
}

/** The whole view as one tree (tests, screenshots). */
export function renderExplorer(state: ExplorerState, ui: UiState): VElement {
  const r = renderRegions(state, ui);
  return h('main', { class: 'explorer' }, [r.header, r.toolbar, r.detail, r.list]);
}
