/**
 * Loads the built explorer (dist/webview) in headless Chromium under the same CSP as in VS Code,
 * feeds it the fixture result, and checks the real page: no CSP violations or errors, pairs
 * listed worst first, chart rows, keyboard navigation and the messages the view sends. With
 * --screenshot it also writes a picture (the README's docs/images/explorer.png).
 *
 *   npm run build && node --import tsx webview/preview/preview.mts [--theme dark|light|high-contrast] [--screenshot FILE]
 *
 * Needs Chromium (/usr/bin/chromium or $CHROMIUM) and playwright-core, taken from the integration
 * harness's cache (.cache/vscode-test/cs-*) or $PLAYWRIGHT_CORE.
 */
import { createServer } from 'node:http';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { explorerHtml, makeNonce } from '../../src/client/explorer/explorer-html';
import type { ExplorerState, ToViewMessage } from '../../src/shared/explorer-messages';
import { fixtureResult } from '../../test/unit/explorer-fixture';
import { themeCss, type ThemeName } from './themes';

const root = resolve(import.meta.dirname, '../..');
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const theme = (arg('--theme') ?? 'dark') as ThemeName;
const screenshot = arg('--screenshot');

function loadPlaywright(): { chromium: any } {
  const candidates = [process.env.PLAYWRIGHT_CORE, join(root, 'node_modules'), ...cacheDirs()].filter((p): p is string => !!p);
  for (const dir of candidates) {
    try {
      return createRequire(join(dir, 'x.js'))('playwright-core');
    } catch {
      // try the next place
    }
  }
  throw new Error('playwright-core not found: run the integration tests once (they install it) or set PLAYWRIGHT_CORE to a node_modules folder that has it.');
}

function cacheDirs(): string[] {
  const base = join(root, '.cache', 'vscode-test');
  return existsSync(base) ? readdirSync(base).map((d) => join(base, d, 'node_modules')) : [];
}

const dist = join(root, 'dist', 'webview');
if (!existsSync(join(dist, 'main.js'))) throw new Error('dist/webview/main.js is missing: run `npm run build` first.');

const summary = { uri: 'file:///work/fight.summary.md', name: 'examples/fight.summary.md' };
const state: ExplorerState = {
  kind: 'result',
  summary,
  source: { uri: 'file:///work/fight.md', name: 'examples/fight.md' },
  result: fixtureResult(),
  settings: { threshold: -1 },
  rescoring: false,
  outdated: false,
};
const nonce = makeNonce();
const { css, bodyClass } = themeCss(theme);
const bootstrap = `
document.body.className = ${JSON.stringify(bodyClass)};
window.__sent = [];
let saved;
window.acquireVsCodeApi = () => ({
  postMessage(m) {
    window.__sent.push(m);
    if (m.type === 'ready') window.postMessage(${JSON.stringify({ type: 'update', state } satisfies ToViewMessage)}, '*');
  },
  getState: () => saved,
  setState: (s) => { saved = s; },
});`;

const server = createServer((req, res) => {
  const files: Record<string, [string, string | Buffer]> = {
    '/main.js': ['text/javascript', readFileSync(join(dist, 'main.js'))],
    '/main.css': ['text/css', `${css}\n${readFileSync(join(dist, 'main.css'), 'utf8')}`],
    '/bootstrap.js': ['text/javascript', bootstrap],
  };
  if (req.url === '/') {
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const html = explorerHtml({ cspSource: origin, scriptUri: `${origin}/main.js`, styleUri: `${origin}/main.css`, nonce }).replace(
      '<script nonce=',
      `<script nonce="${nonce}" src="${origin}/bootstrap.js"></script>\n<script nonce=`,
    );
    files['/'] = ['text/html', html];
  }
  if (req.url === '/favicon.ico') return void res.writeHead(204).end();
  const file = files[req.url ?? ''];
  res.writeHead(file ? 200 : 404, { 'content-type': file?.[0] ?? 'text/plain' });
  res.end(file?.[1] ?? 'not found');
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

const { chromium } = loadPlaywright();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  console.log(`${ok ? 'ok' : 'not ok'} - ${what}`);
  if (!ok) failures.push(what);
};
try {
  const page = await browser.newPage({ viewport: { width: 400, height: 600 }, deviceScaleFactor: 2 });
  const problems: string[] = [];
  page.on('console', (m: any) => (m.type() === 'error' || /Content Security Policy/i.test(m.text())) && problems.push(m.text()));
  page.on('pageerror', (e: Error) => problems.push(e.message));
  await page.goto(url);
  await page.waitForSelector('.pair[role="option"]');
  const rows: string[] = await page.$$eval('.pair[role="option"]', (els: Element[]) => els.map((e) => (e as HTMLElement).dataset.pair ?? ''));
  check(rows.join(',') === 'q2,q1,q3', `pairs listed worst first (${rows.join(',')})`);
  check((await page.textContent('.reading')) === 'Some unsupported content', 'header reading');
  check((await page.$$('.token-row')).length === 8, 'chart of the worst pair shown by default (8 question and answer tokens; separator and end hidden)');
  check(await page.$eval('vscode-button', (b: Element) => !!b.shadowRoot && b.shadowRoot.childElementCount > 0), 'vscode-elements rendered (shadow DOM)');

  await page.focus('[role="listbox"]');
  await page.keyboard.press('ArrowDown');
  check((await page.getAttribute('[role="listbox"]', 'aria-activedescendant')) === 'pair-q1', 'ArrowDown selects the next pair');
  check(await page.evaluate(() => document.activeElement?.getAttribute('role') === 'listbox'), 'focus stays in the list after re-render');
  await page.keyboard.press('Enter');
  await page.click('#pair-q2');
  const sent: any[] = await page.evaluate(() => (window as any).__sent);
  const reveals = sent.filter((m) => m.type === 'revealPair').map((m) => `${m.pairId}@${m.summaryUri}`);
  check(reveals.join(' ') === `q1@${summary.uri} q2@${summary.uri}`, `Enter and click ask to reveal the pair (${reveals.join(' ')})`);
  await page.click('vscode-button[data-action="copyJson"]');
  check((await page.evaluate(() => (window as any).__sent)).some((m: any) => m.type === 'action' && m.action === 'copyJson'), 'Copy as JSON button sends its action');
  const saved = await page.evaluate(() => (window as any).acquireVsCodeApi().getState());
  check(saved?.selectedPairId === 'q2', 'selection saved with setState');
  const injected = await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__injected = 1';
    document.body.appendChild(s);
    return (window as any).__injected === 1;
  });
  check(!injected, 'an inline script is blocked by the CSP');
  // The only violation allowed is the one provoked above.
  const unexpected = problems.filter((p) => !/inline script/i.test(p));
  check(unexpected.length === 0, `no console errors or CSP violations${unexpected.length ? `: ${unexpected.join(' | ')}` : ''}`);
  if (screenshot) {
    await page.mouse.move(0, 0);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.click('#pair-q2');
    const file = resolve(root, screenshot);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, await page.screenshot({ fullPage: true }));
    console.log(`screenshot: ${file}`);
  }
} finally {
  await browser.close();
  server.close();
}
console.log(`${failures.length === 0 ? 'all' : failures.length} checks ${failures.length === 0 ? 'passed' : 'failed'}`);
process.exit(failures.length === 0 ? 0 : 1);
