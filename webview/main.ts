/**
 * Entry point of the explorer webview: keeps the last state from the extension and the view's own
 * UI state, renders them into four regions, and turns user input into validated messages.
 */
import './main.css';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { parseFromView, parseToView, type ExplorerState, type FromViewMessage } from '../src/shared/explorer-messages';
import { focusPair, keyToMove, moveSelection, reconcileSelection, visiblePairIds } from './controller';
import { patchRegion } from './dom';
import { parseUiState, renderRegions, type UiState } from './render';

interface VsCodeApi {
  postMessage(message: FromViewMessage): void;
  getState(): unknown;
  setState(state: UiState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();
let state: ExplorerState = { kind: 'no-summary', candidate: null };
let ui: UiState = parseUiState(api.getState());

const app = document.getElementById('app')!;
// The selected pair's chart (detail) comes before the list: at the side bar's default width it is
// above the list, in a wide view beside it (main.css), never below a long list.
type RegionName = 'header' | 'toolbar' | 'detail' | 'list';
function region(name: RegionName): HTMLElement {
  const el = document.createElement('div');
  el.className = `region region-${name}`;
  app.appendChild(el);
  return el;
}
const regions: Record<RegionName, HTMLElement> = { header: region('header'), toolbar: region('toolbar'), detail: region('detail'), list: region('list') };

function render(scrollToSelection = false): void {
  ui = reconcileSelection(state, ui);
  api.setState(ui);
  const r = renderRegions(state, ui);
  patchRegion(regions.header, r.header);
  patchRegion(regions.toolbar, r.toolbar);
  patchRegion(regions.detail, r.detail);
  patchRegion(regions.list, r.list);
  document.body.dataset.state = state.kind;
  reportRendered();
  if (scrollToSelection && ui.selectedPairId) document.getElementById(`pair-${ui.selectedPairId}`)?.scrollIntoView({ block: 'nearest' });
}

let lastReport = '';
function reportRendered(): void {
  const msg: FromViewMessage = { type: 'rendered', kind: state.kind, pairIds: visiblePairIds(state, ui), selectedPairId: ui.selectedPairId };
  const key = JSON.stringify(msg);
  if (key === lastReport) return;
  lastReport = key;
  api.postMessage(msg);
}

function summaryUri(): string | null {
  return state.kind === 'result' ? state.summary.uri : null;
}

function postPair(type: 'revealPair' | 'showInSource', pairId: string): void {
  const uri = summaryUri();
  if (uri) api.postMessage({ type, summaryUri: uri, pairId });
}

window.addEventListener('message', (event: MessageEvent) => {
  const msg = parseToView(event.data);
  if (!msg) {
    console.warn('QUALS explorer: ignored a malformed message', event.data);
    return;
  }
  if (msg.type === 'update') {
    state = msg.state;
    render();
  } else {
    ui = focusPair(state, ui, msg.pairId);
    render(true);
    regions.list.querySelector<HTMLElement>('[role="listbox"]')?.focus();
  }
});

app.addEventListener('click', (event) => {
  const target = event.target as HTMLElement;
  const action = target.closest<HTMLElement>('[data-action]');
  if (action && !action.hasAttribute('disabled')) {
    // Validated like any message, so a stray data-action can never become an arbitrary command.
    const msg = parseFromView({ type: 'action', action: action.dataset.action });
    if (msg) api.postMessage(msg);
    return;
  }
  const pairAction = target.closest<HTMLElement>('[data-pair-action]');
  if (pairAction && !pairAction.hasAttribute('disabled')) {
    const kind = pairAction.dataset.pairAction === 'showInSource' ? 'showInSource' : 'revealPair';
    postPair(kind, pairAction.dataset.pair ?? '');
    return;
  }
  const option = target.closest<HTMLElement>('[role="option"][data-pair]');
  if (option) {
    ui = { ...ui, selectedPairId: option.dataset.pair ?? null };
    render();
    regions.list.querySelector<HTMLElement>('[role="listbox"]')?.focus();
    postPair('revealPair', option.dataset.pair ?? '');
  }
});

app.addEventListener('keydown', (event) => {
  const target = event.target as HTMLElement;
  if (target.getAttribute('role') !== 'listbox') return;
  const move = keyToMove(event.key);
  if (move) {
    event.preventDefault();
    ui = moveSelection(state, ui, move);
    render(true);
  } else if (event.key === 'Enter' && ui.selectedPairId) {
    event.preventDefault();
    postPair('revealPair', ui.selectedPairId);
  }
});

// Capture phase: vscode-single-select's change event does not bubble.
app.addEventListener(
  'change',
  (event) => {
    const target = event.target as HTMLElement & { value?: string; checked?: boolean };
    const control = target.closest<HTMLElement>('[data-control]')?.dataset.control;
    if (control === 'sort') ui = { ...ui, sort: target.value === 'position' ? 'position' : 'score' };
    else if (control === 'flagged') ui = { ...ui, flaggedOnly: target.checked === true };
    else if (control === 'scale') ui = { ...ui, scale: target.value === 'p' ? 'p' : 'logp' };
    else if (control === 'special') ui = { ...ui, showSpecial: target.checked === true };
    else return;
    render(true);
  },
  true,
);

render();
api.postMessage({ type: 'ready' });
