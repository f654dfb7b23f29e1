/**
 * The explorer's UI state transitions as pure functions, so selection, keyboard navigation and
 * filtering are tested without a browser. main.ts only wires DOM events to these.
 */
import type { ExplorerState } from '../src/shared/explorer-messages';
import { listPairs } from './view-model';
import type { UiState } from './render';

/** The pairs as currently listed (after sort and filter); empty unless a result is shown. */
export function visiblePairIds(state: ExplorerState, ui: UiState): string[] {
  if (state.kind !== 'result') return [];
  return listPairs(state.result.pairs, ui.sort, ui.flaggedOnly, state.verdicts).map((p) => p.id);
}

/**
 * Keeps the selection on a listed pair: a new result or a filter may drop the selected pair, and
 * then the first (by default the worst) listed pair is selected so the chart is never empty.
 */
export function reconcileSelection(state: ExplorerState, ui: UiState): UiState {
  if (state.kind !== 'result') return ui;
  const ids = visiblePairIds(state, ui);
  if (ui.selectedPairId !== null && ids.includes(ui.selectedPairId)) return ui;
  return { ...ui, selectedPairId: ids[0] ?? null };
}

export type Move = 'next' | 'previous' | 'first' | 'last';

/** Moves the selection within the listed pairs (arrow keys, Home, End); stops at the ends. */
export function moveSelection(state: ExplorerState, ui: UiState, move: Move): UiState {
  const ids = visiblePairIds(state, ui);
  if (ids.length === 0) return ui;
  const at = ui.selectedPairId === null ? -1 : ids.indexOf(ui.selectedPairId);
  const next =
    move === 'first' ? 0 : move === 'last' ? ids.length - 1 : move === 'next' ? Math.min(ids.length - 1, at + 1) : Math.max(0, at === -1 ? 0 : at - 1);
  return { ...ui, selectedPairId: ids[next]! };
}

/** Key -> move for the pair list; undefined for keys the list does not handle. */
export function keyToMove(key: string): Move | undefined {
  return ({ ArrowDown: 'next', ArrowUp: 'previous', Home: 'first', End: 'last' } as const)[key as 'ArrowDown'];
}

/**
 * Selects a pair asked for from outside (the hover card's link). When the "only flagged" filter
 * hides it, the filter is lifted: the user asked for that pair.
 */
export function focusPair(state: ExplorerState, ui: UiState, pairId: string): UiState {
  if (state.kind !== 'result' || !state.result.pairs.some((p) => p.id === pairId)) return ui;
  const shown = visiblePairIds(state, ui).includes(pairId);
  return { ...ui, flaggedOnly: shown ? ui.flaggedOnly : false, selectedPairId: pairId };
}
