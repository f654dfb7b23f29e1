/**
 * Hover cards for flagged spans. Every piece of model or document text is escaped: the hover is
 * rendered as untrusted markdown and the only command link in it is the one built here, to the
 * explorer, with JSON arguments (the client enables exactly that command for hovers).
 */
import { Commands, type ShowPairArgs } from '../protocol';
import type { QaPairResult, TokenEvidence } from '../scoring/result';

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

const MAX_TOKEN_ROWS = 24;

function tokenTable(tokens: readonly TokenEvidence[]): string[] {
  // Answer tokens first: they are the evidence the card is about; the question follows.
  const rows = [...tokens.filter((t) => t.role === 'answer'), ...tokens.filter((t) => t.role === 'question')];
  if (rows.length === 0) return [];
  const shown = rows.slice(0, MAX_TOKEN_ROWS);
  const lines = ['| token | p(summary) | p(source) |', '| --- | --- | --- |'];
  for (const t of shown) {
    const text = escapeMarkdown(t.text.trim()) || '\\_';
    lines.push(`| ${t.role === 'answer' ? `**${text}**` : text} | ${probabilityCell(t.logpSummary)} | ${probabilityCell(t.logpSource)} |`);
  }
  if (rows.length > shown.length) lines.push(`| … ${rows.length - shown.length} more | | |`);
  return lines;
}

export interface HoverContext {
  /** The summary document URI (the explorer link's argument). */
  uri: string;
  line?: number;
  /** Shown as "source: <label>". */
  sourceLabel: string;
}

/** The hover card of one QA pair as markdown. */
export function hoverMarkdown(pair: QaPairResult, ctx: HoverContext): string {
  const src = pair.sourceAnswer;
  const sourceSays = src === null ? '_not asked_' : src.text.trim() === '' ? '_no answer_' : `"${escapeMarkdown(src.text)}"`;
  const args: ShowPairArgs = { uri: ctx.uri, pairId: pair.id, ...(ctx.line !== undefined ? { line: ctx.line } : {}) };
  return [
    `**QUALS** ${escapeMarkdown(pair.score.toFixed(2))} · question ${escapeMarkdown(pair.id)}`,
    '',
    `**Q:** ${escapeMarkdown(pair.question)}`,
    '',
    `**Summary says:** "${escapeMarkdown(pair.answer)}"  `,
    `**Source says:** ${sourceSays}${src && !src.agrees ? '' : src ? ' (agrees)' : ''}`,
    '',
    ...tokenTable(pair.tokens),
    '',
    `${commandLink('Open in QUALS Explorer', Commands.explorerShowPair, args)} · source: ${escapeMarkdown(ctx.sourceLabel)}`,
  ].join('\n');
}
