/**
 * Long inputs (issue 11, item 5): a text longer than the model's input limit is read in
 * overlapping windows instead of being cut. Windows end and start at whitespace, each fits the
 * model's limit (checked by encoding it), and consecutive windows overlap by about a quarter, so a
 * statement that straddles one boundary is whole in the next window.
 */

/** A window of the text the model reads: UTF-16 offsets [start, end). */
export interface ViewWindow {
  start: number;
  end: number;
}

/** Fraction of a window repeated at the start of the next one. */
export const WINDOW_OVERLAP = 0.25;

/**
 * Splits `text` into overlapping windows that each satisfy `fits` (the model's limit). `tokensTotal`
 * and `limitTokens` give the first guess of a window's length in characters; a guess that does not
 * fit is shrunk until it does. Returns [{0, text.length}] when the whole text fits.
 */
export function planWindows(text: string, tokensTotal: number, limitTokens: number, fits: (slice: string) => boolean, overlap = WINDOW_OVERLAP): ViewWindow[] {
  const n = text.length;
  if (tokensTotal <= limitTokens || n === 0) return [{ start: 0, end: n }];
  const guess = Math.max(16, Math.floor((n * limitTokens) / Math.max(1, tokensTotal)));
  const out: ViewWindow[] = [];
  let start = 0;
  for (;;) {
    let end = Math.min(n, start + guess);
    if (end < n) end = snapBack(text, start, end);
    while (!fits(text.slice(start, end))) {
      const shorter = start + Math.max(1, Math.floor((end - start) * 0.9));
      end = shorter < end ? snapBack(text, start, shorter) : end - 1;
      if (end <= start + 1) {
        end = start + 1;
        break;
      }
    }
    // The rest fits too: extend the window to the end rather than add a sliver.
    if (end < n && n - start <= guess * 1.2 && fits(text.slice(start))) end = n;
    out.push({ start, end });
    if (end >= n) break;
    let next = snapForward(text, end - Math.floor((end - start) * overlap), end);
    if (next <= start) next = end;
    start = next;
    while (start < n && /\s/.test(text[start]!)) start++;
    if (start >= n) break;
  }
  return out;
}

/** The last whitespace at or before `end` in the second half of [start, end), else `end`. */
function snapBack(text: string, start: number, end: number): number {
  for (let i = end; i > start + (end - start) / 2; i--) if (/\s/.test(text[i] ?? '')) return i;
  return end;
}

/** The first word start at or after `at` and before `limit`, else `at`. */
function snapForward(text: string, at: number, limit: number): number {
  for (let i = at; i < limit; i++) if (/\s/.test(text[i - 1] ?? ' ') && !/\s/.test(text[i]!)) return i;
  return at;
}
