/**
 * How the model read a result's texts, in words: every consumer (CLI report, diagnostics note,
 * status item, explorer, batch/eval summaries) reports truncation and windowing with these.
 */
import type { ComputedWith, OptionOrigin, QualsResult, TruncationInfo } from './result';

export type InputHandling = 'whole' | 'windowed' | 'truncated';

export function inputHandling(info: TruncationInfo | undefined): InputHandling {
  if (!info) return 'whole';
  if (info.truncated) return 'truncated';
  return info.windows && info.windows.length > 1 ? 'windowed' : 'whole';
}

const n = (x: number) => x.toLocaleString('en');

/** One line per text that was not read whole, e.g. `source read in 3 overlapping windows (2,950 tokens; limit 1,023 per window)`. */
export function inputNotes(result: Pick<QualsResult, 'source' | 'summaryInput'>): string[] {
  const out: string[] = [];
  const note = (role: 'source' | 'summary', info: TruncationInfo | undefined) => {
    if (!info) return;
    const limit = info.limit !== undefined ? `; limit ${n(info.limit)} per window` : '';
    switch (inputHandling(info)) {
      case 'windowed':
        out.push(
          `${role} read in ${info.windows!.length} overlapping windows (${n(info.tokensTotal)} tokens${limit}): ` +
            (role === 'source' ? "each pair's LL_D is its best window's" : "questions generated from every window, pooled before selection"),
        );
        return;
      case 'truncated':
        out.push(`${role} truncated: the model read ${n(info.tokensKept)} of ${n(info.tokensTotal)} tokens (up to character ${n(info.charsKept)}); the rest was not checked`);
        return;
      default:
    }
  };
  note('source', result.source);
  note('summary', result.summaryInput);
  return out;
}

/** Counts for end-of-run summaries: records whose source/summary was cut or windowed. */
export interface InputCounts {
  sourceTruncated: number;
  sourceWindowed: number;
  summaryTruncated: number;
  summaryWindowed: number;
}

export function emptyInputCounts(): InputCounts {
  return { sourceTruncated: 0, sourceWindowed: 0, summaryTruncated: 0, summaryWindowed: 0 };
}

export function countInputs(counts: InputCounts, result: Pick<QualsResult, 'source' | 'summaryInput'>): InputCounts {
  const s = inputHandling(result.source);
  const m = inputHandling(result.summaryInput);
  if (s === 'truncated') counts.sourceTruncated++;
  if (s === 'windowed') counts.sourceWindowed++;
  if (m === 'truncated') counts.summaryTruncated++;
  if (m === 'windowed') counts.summaryWindowed++;
  return counts;
}

/** e.g. `long inputs: 3 sources windowed, 1 source truncated` ('' when every text was read whole). */
export function describeInputCounts(c: InputCounts): string {
  const parts: string[] = [];
  const add = (k: number, what: string) => {
    if (k > 0) parts.push(`${k} ${what}`);
  };
  add(c.sourceWindowed, c.sourceWindowed === 1 ? 'source windowed' : 'sources windowed');
  add(c.sourceTruncated, c.sourceTruncated === 1 ? 'source truncated' : 'sources truncated');
  add(c.summaryWindowed, c.summaryWindowed === 1 ? 'summary windowed' : 'summaries windowed');
  add(c.summaryTruncated, c.summaryTruncated === 1 ? 'summary truncated' : 'summaries truncated');
  return parts.length ? `long inputs: ${parts.join(', ')}` : '';
}

/** Options shown in headers whatever their origin (the others only when not at their default). */
const HEADLINE_OPTIONS = ['numBeams', 'numBeamGroups', 'diversityStrength', 'diversityCount', 'minLength', 'maxLength', 'lengthPenalty', 'maxPairs'] as const;
const ORIGIN_WORDS: Record<OptionOrigin, string> = { default: 'default', model: "model's quals.json", user: 'settings/flags', request: 'request' };

/**
 * The effective settings of a result and where each came from, in one line, e.g.
 * `paper mode, grouped search; model's quals.json: numBeams 30, minLength 6; default: maxPairs 10, ...`.
 * '' for results without `computedWith`.
 */
export function describeSettings(result: Pick<QualsResult, 'computedWith'>): string {
  const cw: ComputedWith | undefined = result.computedWith;
  if (!cw) return '';
  const groups = new Map<OptionOrigin, string[]>();
  const keys = new Set<string>([...HEADLINE_OPTIONS, ...Object.keys(cw.options).filter((k) => cw.origin[k] && cw.origin[k] !== 'default')]);
  keys.delete('mode');
  keys.delete('beamSearch');
  // diversityCount only steers the grouped search.
  if (cw.beamSearch !== 'grouped') keys.delete('diversityCount');
  for (const k of keys) {
    if (!(k in cw.options)) continue;
    const origin = cw.origin[k] ?? 'default';
    const list = groups.get(origin) ?? groups.set(origin, []).get(origin)!;
    list.push(`${k} ${String(cw.options[k])}`);
  }
  const modeOrigin = cw.origin.mode && cw.origin.mode !== 'default' ? ` (${ORIGIN_WORDS[cw.origin.mode]})` : '';
  const searchNote = cw.mode === 'reference' ? 'fairseq search (reference mode)' : `${cw.beamSearch} search${cw.origin.beamSearch && cw.origin.beamSearch !== 'default' ? ` (${ORIGIN_WORDS[cw.origin.beamSearch]})` : ''}`;
  const parts = [`${cw.mode} mode${modeOrigin}, ${searchNote}`];
  for (const origin of ['request', 'user', 'model', 'default'] as const) {
    const list = groups.get(origin);
    if (list?.length) parts.push(`${ORIGIN_WORDS[origin]}: ${list.join(', ')}`);
  }
  return parts.join('; ');
}
