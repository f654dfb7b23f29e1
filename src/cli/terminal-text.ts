/**
 * Texts shown on a terminal: control characters (ESC, BEL, C1 controls, ...) would let an input
 * clear the screen, retitle the window or write the clipboard (OSC 52). Each is replaced by ONE
 * visible character, so offsets into the text (answer spans) stay valid.
 */
import type { QualsResult } from '../scoring/result';

// C0 controls except tab and newline, DEL, C1 controls; and bidi overrides that reorder a line.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function safeForTerminal(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\r') return ' ';
    if (code < 0x20) return String.fromCharCode(0x2400 + code); // Control Pictures: ESC -> U+241B
    if (code === 0x7f) return '\u2421';
    return '\ufffd';
  });
}

/** A copy of a result whose texts are terminal-safe (for the readable report; JSON output is untouched). */
export function terminalSafeResult(result: QualsResult): QualsResult {
  return {
    ...result,
    ...(result.message !== undefined ? { message: safeForTerminal(result.message) } : {}),
    model: { ...result.model, name: safeForTerminal(result.model.name) },
    pairs: result.pairs.map((p) => ({
      ...p,
      question: safeForTerminal(p.question),
      answer: safeForTerminal(p.answer),
      sourceAnswer: p.sourceAnswer ? { ...p.sourceAnswer, text: safeForTerminal(p.sourceAnswer.text) } : p.sourceAnswer,
    })),
  };
}
