/**
 * The typed QUALS extensions to LSP, shared by the extension host (src/client) and the language
 * server (src/server). Imports nothing from `vscode`: any LSP editor can use the server.
 * Names are stable: the explorer view (webview/, src/client/explorer/) builds on them.
 */
import { NotificationType, RequestType, RequestType0, type WorkDoneProgressParams } from 'vscode-languageserver-protocol';
import type { PairVerdict } from './scoring/localise';
import type { QualsResult } from './scoring/result';

/**
 * Diagnostic codes of QUALS notes that are not findings: the source was read in windows or cut
 * (`input`), no source is paired (`source-missing`). Findings carry their pair's id as the code.
 * Whatever counts unsupported findings (status bar, JSONL CodeLens) leaves these out.
 */
/** The `source` of every QUALS diagnostic. */
export const DIAGNOSTIC_SOURCE = 'QUALS';

export const NOTE_DIAGNOSTIC_CODES = { input: 'input', sourceMissing: 'source-missing' } as const;

/** True for a QUALS diagnostic that is a finding (a squiggle on unsupported words), not a note. */
export function isFindingDiagnostic(d: { source?: string; code?: unknown }): boolean {
  const notes: readonly unknown[] = Object.values(NOTE_DIAGNOSTIC_CODES);
  const code = typeof d.code === 'object' && d.code !== null && 'value' in d.code ? (d.code as { value: unknown }).value : d.code;
  return d.source === DIAGNOSTIC_SOURCE && !notes.includes(code);
}

/** Command ids contributed in package.json. Hover links and code actions only ever use these. */
export const Commands = {
  scoreSummary: 'quals.scoreSummary',
  checkAllSummaries: 'quals.checkAllSummaries',
  restartServer: 'quals.restartServer',
  pairWithSource: 'quals.pairWithSource',
  unpair: 'quals.unpair',
  showIgnored: 'quals.showIgnoredFindings',
  ignoreFinding: 'quals.ignoreFinding',
  disableForFile: 'quals.disableForFile',
  enableForFile: 'quals.enableForFile',
  recheck: 'quals.recheck',
  showOutput: 'quals.showOutput',
  chooseModel: 'quals.chooseModel',
  /** Opens an example summary next to its source (the walkthrough's second step). */
  openExample: 'quals.openExample',
  /** Owned by the explorer view: reveals one QA pair. Argument: {@link ShowPairArgs}. */
  explorerShowPair: 'quals.explorer.showPair',
} as const;

/** Argument of `quals.explorer.showPair`. */
export interface ShowPairArgs {
  /** The summary document's URI (string form). */
  uri: string;
  pairId: string;
  /** For JSONL datasets: the zero-based line whose summary holds the pair. */
  line?: number;
}

/** Published by the server whenever a check finishes for the document version it was computed on. */
export interface ResultParams {
  /** The summary document (a JSONL dataset for line results). */
  uri: string;
  /** The document version the result belongs to (null: read from disk, not open). */
  version: number | null;
  /** The paired source document. */
  sourceUri: string;
  result: QualsResult;
  /** Each pair's verdict by pair id, from the same findings as the diagnostics (src/scoring/localise.ts, pairVerdicts). */
  verdicts: Record<string, PairVerdict>;
  /**
   * JSONL datasets: the zero-based line, and the UTF-16 offset of the summary text inside the
   * document; the result's spans are relative to the summary text, add this to place them.
   */
  line?: number;
  summaryOffset?: number;
}
export const resultNotification = new NotificationType<ResultParams>('quals/result');

/** Why a document has no result: sent instead of a result so the UI can say why. */
export interface DocumentStatusParams {
  uri: string;
  version: number | null;
  state: 'checking' | 'done' | 'unpaired' | 'disabled' | 'error' | 'cancelled';
  /** One-line, user-facing explanation (unpaired: how to pair; error: what went wrong). */
  message?: string;
  /** Overall score when state is done (null when no QA pairs were found). */
  score?: number | null;
  /** When done and a text was too long for the model: how it was read, e.g. "source read in 3 overlapping windows (...)" (src/scoring/input-notes.ts). */
  input?: string;
}
export const documentStatusNotification = new NotificationType<DocumentStatusParams>('quals/documentStatus');

/** The model's state, so the client can show one actionable notification instead of a stream of errors. */
export interface ModelStatusParams {
  state: 'loading' | 'downloading' | 'ready' | 'error';
  /** The `quals.model` setting value (folder or hub id), empty when not set. */
  model: string;
  /** Execution provider in use when ready (`cpu`, `cuda`, ...). */
  device?: string;
  format?: string;
  /** The weight variant loaded when ready (`fp32`, `int8`, ...: the quals.modelVariant setting). */
  variant?: string;
  /** ModelError code when state is error (`not-found`, `missing-file`, ...) or `not-configured`. */
  code?: string;
  message?: string;
  /** Download progress (0..1) when downloading and the size is known. */
  progress?: number;
}
export const modelStatusNotification = new NotificationType<ModelStatusParams>('quals/modelStatus');

/** A finding the user chose to ignore: matched by question and answer, not by the run-local pair id. */
export interface IgnoredFinding {
  uri: string;
  question: string;
  answer: string;
}

/** A pairing chosen with "QUALS: Pair with Source...": summary URI -> source URI. */
export type RememberedPairs = Record<string, string>;

/** Per-workspace state kept by the client (workspaceState) and mirrored into the server. */
export interface WorkspaceStateParams {
  pairs: RememberedPairs;
  ignored: IgnoredFinding[];
  /** Summary URIs the user disabled QUALS for. */
  disabled: string[];
}
export const workspaceStateNotification = new NotificationType<WorkspaceStateParams>('quals/workspaceState');

/** Runs a check now (the "Score Summary" command); cancellable through the request's token. */
export interface ScoreParams {
  uri: string;
}
export interface ScoreResponse {
  state: 'done' | 'unpaired' | 'disabled' | 'error' | 'cancelled';
  message?: string;
  sourceUri?: string;
  /** Overall score (mean over lines for JSONL); null when no QA pairs were found. */
  score?: number | null;
  /** Selected QA pairs, and how many of them are flagged as unsupported. */
  pairs?: number;
  flagged?: number;
  /** Truncation / windowing of the texts, in words (see DocumentStatusParams.input). */
  input?: string;
}
export const scoreRequest = new RequestType<ScoreParams, ScoreResponse, void>('quals/score');

/** Where the server pairs a summary (used by commands to explain pairing). */
export interface PairingParams {
  uri: string;
}
export interface PairingResponse {
  /** How the source was found; null when the document is not paired. */
  via: 'directive' | 'rule' | 'remembered' | 'jsonl' | null;
  sourceUri?: string;
  /** One-line explanation, including how to pair when unpaired. */
  message: string;
}
export const pairingRequest = new RequestType<PairingParams, PairingResponse, void>('quals/pairing');

/** Server process facts for the status item and for tests (pid: restart after a crash). */
export interface ServerInfo {
  pid: number;
  version: string;
  model: ModelStatusParams;
}
export const serverInfoRequest = new RequestType0<ServerInfo, void>('quals/serverInfo');

/**
 * Makes a model ready to load, ahead of saving it in `quals.model` ("QUALS: Choose Model..."):
 * `hub` downloads hub repo `model` into `cacheDir` (importing it when the repo holds a Hugging Face
 * checkpoint rather than ONNX files), `checkpoint` imports the local checkpoint folder `model`
 * (config.json + model.safetensors / pytorch_model.bin) into `outDir`. Runs in the server (the
 * import is CPU-heavy); progress comes as LSP work-done progress on the request's `workDoneToken`,
 * cancellation through `$/cancelRequest`.
 */
export interface PrepareModelParams extends WorkDoneProgressParams {
  kind: 'hub' | 'checkpoint';
  /** Hub id (`org/name`) or the checkpoint folder's absolute path. */
  model: string;
  /** Hub download cache (the same folder the server loads hub ids from). */
  cacheDir: string;
  /** `checkpoint`: the folder the imported model is written to (replaced when it exists). */
  outDir?: string;
  /** The format the model is known to use (recommended models); absent: the import decides. */
  format?: 'qagen' | 'lmqg';
  /** The variant to make ready (int8: a checkpoint is converted with its int8 files too); absent: the server's quals.modelVariant setting. */
  variant?: 'fp32' | 'int8' | 'quantized' | 'fp16';
}
export interface PrepareModelResponse {
  state: 'done' | 'cancelled' | 'error';
  /** The ready model folder (Optimum layout, with quals.json). */
  dir?: string;
  /** The format the folder's quals.json names. */
  format?: string;
  /** error: one line for users; done: a note (e.g. a format that differs from the expected one). */
  message?: string;
  /** ModelError code on error. */
  code?: string;
}
export const prepareModelRequest = new RequestType<PrepareModelParams, PrepareModelResponse, void>('quals/prepareModel');
