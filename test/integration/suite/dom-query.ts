/**
 * Asks the code-server harness (run.mjs) what the page shows for a CSS selector, in every frame,
 * webviews included: boxes and computed colours the extension host cannot see. Returns undefined
 * outside that harness (desktop VS Code through @vscode/test-electron), so callers skip the check.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './helpers';

export interface DomMatch {
  top: number;
  bottom: number;
  left: number;
  right: number;
  text: string;
  backgroundColor: string;
  backgroundImage: string;
  /** The class of the body of the frame the match is in (a webview's theme kind). */
  bodyClass: string;
}

let seq = 0;

export async function domQuery(selector: string): Promise<DomMatch[] | undefined> {
  const dir = process.env.QUALS_TEST_SIGNAL_DIR;
  if (!dir) return undefined;
  const id = `q${++seq}`;
  const file = join(dir, `query-${id}.json`);
  rmSync(file, { force: true });
  console.log(`QUALS-QUERY ${id} ${selector}`);
  await waitFor(`the harness to answer query ${id}`, () => existsSync(file), 15_000);
  return JSON.parse(readFileSync(file, 'utf8')) as DomMatch[];
}

/** Polls the page until `accept` takes what the selector matches (the webview renders asynchronously). */
export async function domWait<T>(what: string, selector: string, accept: (m: DomMatch[]) => T | undefined | false, timeoutMs = 20_000): Promise<T | undefined> {
  if (!process.env.QUALS_TEST_SIGNAL_DIR) return undefined;
  let last: DomMatch[] = [];
  try {
    return await waitFor(what, async () => accept((last = (await domQuery(selector)) ?? [])), timeoutMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}; last matches of ${selector}: ${JSON.stringify(last).slice(0, 600)}`);
  }
}
