/**
 * The server's typed view of the `quals.*` settings. Values arrive as untrusted JSON through
 * `workspace/configuration` (or initializationOptions for other LSP editors); every field falls
 * back to its default when missing or malformed, so a typo in settings.json never breaks checks.
 */
import type { Diagnostic } from 'vscode-languageserver';
import type { IgnoredFinding, WorkspaceStateParams } from '../protocol';
import type { Device, ModelFormatName, ModelVariant } from '../scoring/engine-api';
import { DEFAULT_PAIR_THRESHOLD, type QualsOptions, type ScoringMode } from '../scoring/options';
import { DEFAULT_PAIR_RULES, isPairRule, type PairRule } from '../scoring/pairing';
import { DEFAULT_JSONL_FIELDS, type JsonlFields } from '../scoring/jsonl-lines';

export type CheckOn = 'save' | 'type' | 'manual';
export type SeverityName = 'error' | 'warning' | 'information' | 'hint';

export interface QualsSettings {
  enabled: boolean;
  /** Folder or hub id; empty = not configured. */
  model: string;
  modelFormat: 'auto' | ModelFormatName;
  /** Which weight files to load (quals.modelVariant): fp32, or the int8 variant an import wrote. */
  modelVariant: ModelVariant;
  device: Device;
  checkOn: CheckOn;
  debounceMs: number;
  /** Pairs scoring below this are flagged. */
  threshold: number;
  diagnosticSeverity: SeverityName;
  pairs: PairRule[];
  jsonlFields: JsonlFields[];
  /** Sources longer than this are cut before scoring (the model truncates by tokens anyway). */
  maxSourceChars: number;
  /** Option overrides; unset (null) values leave the model's quals.json / defaults in force. */
  search: Partial<QualsOptions>;
}

export const DEFAULT_SETTINGS: Readonly<QualsSettings> = Object.freeze({
  enabled: true,
  model: '',
  modelFormat: 'auto',
  modelVariant: 'fp32',
  device: 'auto',
  checkOn: 'save',
  debounceMs: 800,
  threshold: DEFAULT_PAIR_THRESHOLD,
  diagnosticSeverity: 'warning',
  pairs: [...DEFAULT_PAIR_RULES],
  jsonlFields: [...DEFAULT_JSONL_FIELDS],
  maxSourceChars: 100_000,
  search: {},
});

/** The `quals.search.*` settings, each one option of the engine. */
export const SEARCH_SETTING_KEYS = [
  'numBeams',
  'numBeamGroups',
  'diversityStrength',
  'diversityCount',
  'beamSearch',
  'maxPairs',
  'minLength',
  'maxLength',
  'lengthPenalty',
  'mode',
  'sourceAnswerMaxTokens',
] as const satisfies readonly (keyof QualsOptions)[];

const oneOf = <T extends string>(v: unknown, allowed: readonly T[], fallback: T): T =>
  typeof v === 'string' && (allowed as readonly string[]).includes(v) ? (v as T) : fallback;
const num = (v: unknown, fallback: number, min = -Infinity): number =>
  typeof v === 'number' && Number.isFinite(v) && v >= min ? v : fallback;

/** Reads the `quals` configuration section into typed settings with defaults. */
export function parseSettings(raw: unknown): QualsSettings {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const d = DEFAULT_SETTINGS;
  const pairs = Array.isArray(r.pairs) ? r.pairs.filter(isPairRule) : d.pairs;
  const fields = Array.isArray(r.jsonlFields)
    ? r.jsonlFields.filter(
        (f): f is JsonlFields => typeof f === 'object' && f !== null && typeof f.document === 'string' && typeof f.summary === 'string',
      )
    : d.jsonlFields;
  return {
    enabled: typeof r.enabled === 'boolean' ? r.enabled : d.enabled,
    model: typeof r.model === 'string' ? r.model.trim() : d.model,
    modelFormat: oneOf(r.modelFormat, ['auto', 'qagen', 'lmqg'], d.modelFormat),
    modelVariant: oneOf(r.modelVariant, ['fp32', 'int8', 'quantized', 'fp16'], d.modelVariant),
    device: oneOf(r.device, ['auto', 'cpu', 'cuda', 'dml', 'coreml'], d.device),
    checkOn: oneOf(r.checkOn, ['save', 'type', 'manual'], d.checkOn),
    debounceMs: num(r.debounceMs, d.debounceMs, 0),
    threshold: num(r.threshold, d.threshold),
    diagnosticSeverity: oneOf(r.diagnosticSeverity, ['error', 'warning', 'information', 'hint'], d.diagnosticSeverity),
    pairs,
    jsonlFields: fields.length > 0 ? fields : d.jsonlFields,
    maxSourceChars: num(r.maxSourceChars, d.maxSourceChars, 1),
    search: parseSearch(r.search),
  };
}

function parseSearch(raw: unknown): Partial<QualsOptions> {
  const out: Partial<Record<keyof QualsOptions, unknown>> = {};
  if (typeof raw !== 'object' || raw === null) return {};
  const r = raw as Record<string, unknown>;
  for (const key of SEARCH_SETTING_KEYS) {
    const v = r[key];
    if (key === 'mode') {
      if (v === 'paper' || v === 'reference') out.mode = v as ScoringMode;
    } else if (key === 'diversityCount') {
      if (v === 'fairseq' || v === 'hamming') out.diversityCount = v;
    } else if (key === 'beamSearch') {
      if (v === 'grouped' || v === 'fairseq' || v === 'hf') out.beamSearch = v;
    } else if (typeof v === 'number' && Number.isFinite(v)) out[key] = v;
  }
  return out as Partial<QualsOptions>;
}

/** The client's workspace state as untrusted JSON: anything malformed is dropped, never trusted. */
export function parseWorkspaceState(raw: unknown): WorkspaceStateParams {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const pairs: Record<string, string> = {};
  if (o.pairs && typeof o.pairs === 'object' && !Array.isArray(o.pairs)) {
    for (const [k, v] of Object.entries(o.pairs as Record<string, unknown>)) if (typeof v === 'string') pairs[k] = v;
  }
  const ignored = (Array.isArray(o.ignored) ? o.ignored : []).filter(
    (f): f is IgnoredFinding => !!f && typeof f === 'object' && typeof f.uri === 'string' && typeof f.question === 'string' && typeof f.answer === 'string',
  );
  const disabled = (Array.isArray(o.disabled) ? o.disabled : []).filter((u): u is string => typeof u === 'string');
  return { pairs, ignored, disabled };
}

/** A diagnostic from a request's context that code actions can read (null entries and junk are dropped). */
export function isDiagnosticLike(d: unknown): d is Diagnostic {
  const r = (d as { range?: { start?: { line?: unknown; character?: unknown }; end?: { line?: unknown; character?: unknown } } } | null)?.range;
  return (
    !!d &&
    typeof d === 'object' &&
    typeof r?.start?.line === 'number' &&
    typeof r.start.character === 'number' &&
    typeof r.end?.line === 'number' &&
    typeof r.end.character === 'number'
  );
}
