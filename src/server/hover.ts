/**
 * Hover cards for flagged words. Every piece of model or document text is escaped: the hover is
 * rendered as untrusted markdown and the only command link in it is the one built here, to the
 * explorer, with JSON arguments (the client enables exactly that command for hovers).
 */
import { Commands, type ShowPairArgs } from '../protocol';
import { formatScore, largestDrops } from '../scoring/localise';
import type { QaPairResult } from '../scoring/result';

/** Escapes every ASCII punctuation character and flattens whitespace, so text can never become markup. */
export function escapeMarkdown(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[!-/:-@[-`{-~]/g, (c) => `\\${c}`);
}

/** A `command:` link; the arguments are JSON, percent-encoded so no text can break out of the URL. */
export function commandLink(label: string, command: string, args: unknown): string {
  // encodeURIComponent leaves ( ) ! ' * ~ alone; a `)` would end the markdown link early.
  const query = encodeURIComponent(JSON.stringify([args])).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `[${escapeMarkdown(label)}](command:${command}?${query})`;
}

const BARS = '▁▂▃▄▅▆▇█';

/** A probability bar glyph and value, e.g. `▇ 0.82`. */
export function probabilityCell(logp: number): string {
  const p = Math.exp(logp);
  if (!Number.isFinite(p)) return '–';
  const glyph = BARS[Math.min(BARS.length - 1, Math.floor(p * BARS.length))]!;
  return `${glyph} ${p.toFixed(2)}`;
}

/** The largest drops as one line, e.g. `Joshua 1.00 → 0.00 · beat 0.37 → 0.28` (p given the summary → given the source). */
function dropsLine(pair: QaPairResult): string {
  const cells = largestDrops(pair, 3).map((t) => {
    const text = escapeMarkdown(t.text.trim()) || '\\_';
    return `${t.role === 'answer' ? `**${text}**` : text} ${pValue(t.logpSummary)} → ${pValue(t.logpSource)}`;
  });
  return cells.length ? `Largest drops, p(summary) → p(source): ${cells.join(' · ')}` : '';
}

function pValue(logp: number): string {
  const p = Math.exp(logp);
  return Number.isFinite(p) ? p.toFixed(2) : '–';
}

export interface HoverContext {
  /** The summary document URI (the explorer link's argument). */
  uri: string;
  line?: number;
  /** Shown as "source: <label>". */
  sourceLabel: string;
}

/**
 * The hover card of one QA pair as markdown: four short lines under VS Code's own problem message,
 * so its "Quick Fix..." stays in view. The full token table lives in the explorer.
 */
export function hoverMarkdown(pair: QaPairResult, ctx: HoverContext): string {
  const src = pair.sourceAnswer;
  const sourceSays =
    src === null ? 'source not asked' : src.text.trim() === '' ? 'source gives no answer' : src.agrees ? 'source agrees' : `source says "${escapeMarkdown(src.text)}"`;
  const args: ShowPairArgs = { uri: ctx.uri, pairId: pair.id, ...(ctx.line !== undefined ? { line: ctx.line } : {}) };
  return [
    `**QUALS ${escapeMarkdown(formatScore(pair.score))}** · ${escapeMarkdown(pair.question)}  `,
    `Summary says "${escapeMarkdown(pair.answer)}" · ${sourceSays}  `,
    `${dropsLine(pair)}  `,
    `${commandLink('Open in QUALS Explorer', Commands.explorerShowPair, args)} · source: ${escapeMarkdown(ctx.sourceLabel)}`,
  ].join('\n');
}
