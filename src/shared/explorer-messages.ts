/**
 * Messages between the QUALS explorer webview and the extension host, in both directions, with
 * validators each side runs on receipt. A webview is a separate (sandboxed) page: nothing it sends
 * is trusted, and the view itself checks what the extension sends so a bug cannot render garbage.
 * Imports nothing from `vscode` so the webview bundle and unit tests can use it.
 */
import type { PairVerdict } from '../scoring/localise';
import type { QaPairResult, QualsResult, TextSpan, TokenEvidence } from '../scoring/result';

/** A document the view refers to: its URI (string form) and a short name for display. */
export interface DocRef {
  uri: string;
  name: string;
}

/** Settings the view needs to judge pairs; the extension reads them from `quals.*`. */
export interface ExplorerSettings {
  /** A pair whose score is below this is flagged (setting `quals.threshold`). */
  threshold: number;
}

/** What the view shows: one case per empty/error state, plus the result itself. */
export type ExplorerState =
  /** `candidate`: the active document when it has no QUALS result yet (not checked, or not a summary). */
  | { kind: 'no-summary'; candidate: DocRef | null }
  /** `message`: the server's explanation of how to pair, when it sent one. */
  | { kind: 'not-paired'; summary: DocRef; message?: string }
  | { kind: 'disabled'; summary: DocRef; message: string }
  | { kind: 'model-missing'; summary: DocRef | null; message: string }
  | { kind: 'scoring'; summary: DocRef; source: DocRef | null }
  | { kind: 'error'; summary: DocRef | null; message: string }
  | {
      kind: 'result';
      summary: DocRef;
      source: DocRef;
      result: QualsResult;
      settings: ExplorerSettings;
      /** Each pair's verdict by pair id, as the server judged it with the diagnostics (src/scoring/localise.ts). */
      verdicts: Record<string, PairVerdict>;
      /** True while a newer check of the same summary runs (the old result stays visible). */
      rescoring: boolean;
      /** True when the summary was edited after this check (spans may be off until it is re-checked). */
      outdated: boolean;
    };

export type ExplorerStateKind = ExplorerState['kind'];

/** Extension -> view. */
export type ToViewMessage =
  | { type: 'update'; state: ExplorerState }
  /** Select (and scroll to) a pair, e.g. from the hover card's "Show in QUALS explorer" link. */
  | { type: 'focusPair'; pairId: string };

/** Buttons in the view that run an extension command with no argument. */
export const EXPLORER_ACTIONS = ['pairWithSource', 'chooseModel', 'copyJson', 'saveReport', 'rescore', 'enableForFile'] as const;
export type ExplorerAction = (typeof EXPLORER_ACTIONS)[number];

/** View -> extension. Pair messages carry the summary URI so a late click on an old result is ignored. */
export type FromViewMessage =
  | { type: 'ready' }
  | { type: 'revealPair'; summaryUri: string; pairId: string }
  | { type: 'showInSource'; summaryUri: string; pairId: string }
  | { type: 'action'; action: ExplorerAction }
  /** What the view has on screen after a render (the integration tests read it; cheap, only sent on change). */
  | { type: 'rendered'; kind: ExplorerStateKind; pairIds: string[]; selectedPairId: string | null };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** Log-probabilities may legitimately be -Infinity (a token the model rules out). */
const isLogp = (v: unknown): boolean => typeof v === 'number' && !Number.isNaN(v) && v !== Infinity;
const isInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const isArrayOf = (v: unknown, item: (x: unknown) => boolean): boolean => Array.isArray(v) && v.every(item);

/** Validates a message received by the extension from the webview; undefined when malformed. */
export function parseFromView(msg: unknown): FromViewMessage | undefined {
  if (!isObj(msg)) return undefined;
  switch (msg.type) {
    case 'ready':
      return { type: 'ready' };
    case 'revealPair':
    case 'showInSource':
      if (!isStr(msg.summaryUri) || !isStr(msg.pairId)) return undefined;
      return { type: msg.type, summaryUri: msg.summaryUri, pairId: msg.pairId };
    case 'action':
      return (EXPLORER_ACTIONS as readonly unknown[]).includes(msg.action)
        ? { type: 'action', action: msg.action as ExplorerAction }
        : undefined;
    case 'rendered':
      return isStr(msg.kind) &&
        STATE_KINDS.includes(msg.kind as ExplorerStateKind) &&
        isArrayOf(msg.pairIds, isStr) &&
        (msg.selectedPairId === null || isStr(msg.selectedPairId))
        ? { type: 'rendered', kind: msg.kind as ExplorerStateKind, pairIds: msg.pairIds as string[], selectedPairId: msg.selectedPairId as string | null }
        : undefined;
    default:
      return undefined;
  }
}

const STATE_KINDS: readonly ExplorerStateKind[] = ['no-summary', 'not-paired', 'disabled', 'model-missing', 'scoring', 'error', 'result'];

/** Validates a message received by the webview from the extension; undefined when malformed. */
export function parseToView(msg: unknown): ToViewMessage | undefined {
  if (!isObj(msg)) return undefined;
  if (msg.type === 'focusPair') return isStr(msg.pairId) ? { type: 'focusPair', pairId: msg.pairId } : undefined;
  if (msg.type === 'update' && isExplorerState(msg.state)) return { type: 'update', state: msg.state };
  return undefined;
}

const isDocRef = (v: unknown): v is DocRef => isObj(v) && isStr(v.uri) && isStr(v.name);
const isDocRefOrNull = (v: unknown): boolean => v === null || isDocRef(v);

export function isExplorerState(v: unknown): v is ExplorerState {
  if (!isObj(v)) return false;
  switch (v.kind) {
    case 'no-summary':
      return isDocRefOrNull(v.candidate);
    case 'not-paired':
      return isDocRef(v.summary) && (v.message === undefined || isStr(v.message));
    case 'disabled':
      return isDocRef(v.summary) && isStr(v.message);
    case 'model-missing':
    case 'error':
      return isDocRefOrNull(v.summary) && isStr(v.message);
    case 'scoring':
      return isDocRef(v.summary) && isDocRefOrNull(v.source);
    case 'result':
      return (
        isDocRef(v.summary) &&
        isDocRef(v.source) &&
        typeof v.rescoring === 'boolean' &&
        typeof v.outdated === 'boolean' &&
        isObj(v.settings) &&
        isNum(v.settings.threshold) &&
        isQualsResult(v.result) &&
        isVerdicts(v.verdicts, v.result)
      );
    default:
      return false;
  }
}

const VERDICTS = ['unsupported', 'doubtful', 'supported'];
const DOUBTS = ['unconfirmed', 'no-word', 'ignored', 'seconds'];
/** A verdict for every pair of the result, so no badge is guessed. */
function isVerdicts(v: unknown, result: QualsResult): boolean {
  const ok = (x: unknown) => isObj(x) && VERDICTS.includes(x.verdict as string) && (x.why === undefined || DOUBTS.includes(x.why as string));
  return isObj(v) && result.pairs.every((p) => ok(v[p.id]));
}

const isPosition = (v: unknown): boolean => isObj(v) && isInt(v.line) && isInt(v.character);
function isSpan(v: unknown): v is TextSpan {
  return isObj(v) && isInt(v.start) && isInt(v.end) && isObj(v.range) && isPosition(v.range.start) && isPosition(v.range.end);
}

function isToken(v: unknown): v is TokenEvidence {
  return (
    isObj(v) &&
    isStr(v.text) &&
    ['question', 'separator', 'answer', 'eos'].includes(v.role as string) &&
    isLogp(v.logpSummary) &&
    isLogp(v.logpSource)
  );
}

function isPair(v: unknown): v is QaPairResult {
  if (!isObj(v)) return false;
  const sa = v.sourceAnswer;
  const sourceAnswerOk =
    sa === null || (isObj(sa) && isStr(sa.text) && typeof sa.agrees === 'boolean' && (sa.span === null || isSpan(sa.span)));
  return (
    isStr(v.id) &&
    isStr(v.question) &&
    isStr(v.answer) &&
    isLogp(v.score) &&
    isLogp(v.llSource) &&
    isLogp(v.llSummary) &&
    isArrayOf(v.spans, isSpan) &&
    isArrayOf(v.tokens, isToken) &&
    sourceAnswerOk
  );
}

/** Checks the parts of a QualsResult the view reads (not timings or candidate counts). */
export function isQualsResult(v: unknown): v is QualsResult {
  if (!isObj(v)) return false;
  const { model, source } = v;
  return (
    (v.status === 'ok' || v.status === 'no-pairs') &&
    (v.score === null || isLogp(v.score)) &&
    (v.message === undefined || isStr(v.message)) &&
    isObj(model) &&
    isStr(model.name) &&
    isStr(model.format) &&
    isStr(model.device) &&
    isObj(source) &&
    typeof source.truncated === 'boolean' &&
    isInt(source.tokensKept) &&
    isInt(source.tokensTotal) &&
    isInt(source.charsKept) &&
    isArrayOf(v.pairs, isPair)
  );
}
