/**
 * Loads the built explorer (dist/webview) in headless Chromium under the same CSP as in VS Code,
 * feeds it the fixture result, and checks the real page: no CSP violations or errors, pairs
 * listed worst first, the chart above the list at the side bar's default width and beside it in a
 * wide view, no button that repeats a title-bar action, ⟨sep⟩/⟨end⟩ hidden until asked for, an
 * axis on the bars, no "−0.00", keyboard navigation, the messages the view sends, and in every
 * theme (High Contrast Light included) two series that differ in colour AND pattern.
 * With --screenshot it also writes a picture of the fixture (a check, not the README's pictures:
 * those come from a real VS Code window, `npm run screenshots`).
 *
 *   npm run build && node --import tsx webview/preview/preview.mts [--theme dark|light|high-contrast|high-contrast-light] [--screenshot FILE]
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
import { fixtureResult, fixtureVerdicts } from '../../test/unit/explorer-fixture';
import { THEME_NAMES, themeCss, type ThemeName } from './themes';
import { hueDistance } from './colour';

const root = resolve(import.meta.dirname, '../..');
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const theme = (arg('--theme') ?? 'dark') as ThemeName;
if (!THEME_NAMES.includes(theme)) throw new Error(`unknown theme ${theme}; one of ${THEME_NAMES.join(', ')}`);
const screenshot = arg('--screenshot');
/** VS Code's default side bar is about 300 px wide. */
const SIDEBAR_WIDTH = 300;

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
const result = fixtureResult();
// A difference that rounds to zero from below: it must read 0.00, never −0.00.
result.pairs[2]!.tokens[3]!.logpSource = -0.053;
const state: ExplorerState = {
  kind: 'result',
  summary,
  source: { uri: 'file:///work/fight.md', name: 'examples/fight.md' },
  result,
  settings: { threshold: -1 },
  verdicts: fixtureVerdicts(result),
  rescoring: false,
  outdated: false,
};
const nonce = makeNonce();
const bootstrap = (bodyClass: string) => `
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

// Every path takes ?theme=NAME: the page, its stylesheet (theme variables + main.css) and bootstrap.
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const name = (url.searchParams.get('theme') ?? 'dark') as ThemeName;
  const { css, bodyClass } = themeCss(THEME_NAMES.includes(name) ? name : 'dark');
  const files: Record<string, [string, string | Buffer]> = {
    '/main.js': ['text/javascript', readFileSync(join(dist, 'main.js'))],
    '/main.css': ['text/css', `${css}\n${readFileSync(join(dist, 'main.css'), 'utf8')}`],
    '/bootstrap.js': ['text/javascript', bootstrap(bodyClass)],
  };
  if (url.pathname === '/') {
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const q = `?theme=${encodeURIComponent(name)}`;
    const html = explorerHtml({ cspSource: origin, scriptUri: `${origin}/main.js`, styleUri: `${origin}/main.css${q}`, nonce }).replace(
      '<script nonce=',
      `<script nonce="${nonce}" src="${origin}/bootstrap.js${q}"></script>\n<script nonce=`,
    );
    files['/'] = ['text/html', html];
  }
  if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
  const file = files[url.pathname];
  res.writeHead(file ? 200 : 404, { 'content-type': file?.[0] ?? 'text/plain' });
  res.end(file?.[1] ?? 'not found');
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const pageUrl = (name: ThemeName) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/?theme=${name}`;

/** Titles of the view's title-bar actions (package.json): the page must not repeat them as buttons. */
function titleBarActions(): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const ids = new Set((pkg.contributes.menus['view/title'] as { command: string; when: string }[]).filter((m) => /view == quals\.explorer/.test(m.when)).map((m) => m.command));
  return (pkg.contributes.commands as { command: string; title: string }[]).filter((c) => ids.has(c.command)).map((c) => c.title);
}

type Box = { top: number; bottom: number; left: number; right: number };
const box = (page: any, selector: string): Promise<Box> =>
  page.$eval(selector, (e: Element) => {
    const r = e.getBoundingClientRect();
    return { top: r.top, bottom: r.bottom, left: r.left, right: r.right };
  });

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
  const problems: string[] = [];
  const open = async (name: ThemeName, width: number) => {
    const page = await browser.newPage({ viewport: { width, height: 600 }, deviceScaleFactor: 2 });
    page.on('console', (m: any) => (m.type() === 'error' || /Content Security Policy/i.test(m.text())) && problems.push(m.text()));
    page.on('pageerror', (e: Error) => problems.push(e.message));
    await page.goto(pageUrl(name));
    await page.waitForSelector('.pair[role="option"]');
    await page.waitForSelector('.token-row');
    return page;
  };
  const page = await open(theme, SIDEBAR_WIDTH);
  const rows: string[] = await page.$$eval('.pair[role="option"]', (els: Element[]) => els.map((e) => (e as HTMLElement).dataset.pair ?? ''));
  check(rows.join(',') === 'q2,q1,q3', `pairs listed worst first (${rows.join(',')})`);
  check((await page.textContent('.reading')) === 'Some unsupported content', 'header reading');
  const badges = await page.$$eval('.pair[role="option"]', (els: Element[]) => els.map((e) => `${e.getAttribute('data-pair')}:${e.querySelector('.badge')?.getAttribute('data-verdict')}`));
  check(badges.join(',') === 'q2:unsupported,q1:supported,q3:supported', `badges follow the server's verdicts (${badges.join(',')})`);
  check(await page.$eval('vscode-checkbox', (b: Element) => !!b.shadowRoot && b.shadowRoot.childElementCount > 0), 'vscode-elements rendered (shadow DOM)');

  // Placement at the side bar's default width: the chart of the selected pair above the list.
  const [detail, list] = [await box(page, '.region-detail'), await box(page, '.region-list .pair-list')];
  check(detail.bottom <= list.top + 1 && detail.top < 600, `chart above the pair list at ${SIDEBAR_WIDTH}px and on screen (chart ${detail.top}-${detail.bottom}, list from ${list.top})`);

  // No button that the view's title bar already offers, and no label twice.
  const labels: string[] = await page.$$eval('vscode-button, button', (els: Element[]) => els.map((e) => (e.textContent ?? '').trim()));
  const repeated = labels.filter((l, i) => labels.indexOf(l) !== i);
  const inTitle = titleBarActions();
  const dup = labels.filter((l) => inTitle.some((t) => t.toLowerCase() === l.toLowerCase()));
  check(inTitle.length >= 2 && repeated.length === 0 && dup.length === 0, `no duplicated buttons (in view: ${labels.join(', ')}; title bar: ${inTitle.join(', ')})`);

  // Separator and end hidden by default, shown with the toggle, hidden again.
  const tokenTexts = () => page.$$eval('.token-row .token-text', (els: Element[]) => els.map((e) => e.textContent ?? ''));
  const first = await tokenTexts();
  check(first.length === 8 && !first.some((t: string) => /⟨(sep|end)⟩/.test(t)), `⟨sep⟩/⟨end⟩ hidden by default (${first.length} rows)`);
  await page.click('vscode-checkbox[data-control="special"]');
  const shown = await tokenTexts();
  check(shown.length === 10 && shown[5] === '⟨sep⟩' && shown[9] === '⟨end⟩', `the toggle shows ⟨sep⟩ and ⟨end⟩ (${shown.join(' ')})`);
  await page.click('vscode-checkbox[data-control="special"]');
  check((await tokenTexts()).length === 8, 'the toggle hides them again');

  // The scale: ticks in log-prob units, 0 at the right end of the bars.
  const ticks: string[] = await page.$$eval('.axis-tick', (els: Element[]) => els.map((e) => e.textContent ?? ''));
  const track = await box(page, '.axis-track');
  const bar = await box(page, '.token-row .bar-track');
  const zero = await box(page, '.axis-tick.last');
  check(ticks.join(' ') === '−8 −6 −4 −2 0' && Math.abs(track.right - bar.right) < 1 && Math.abs(zero.right - bar.right) < 1, `axis ticks ${ticks.join(' ')}, aligned with the bars`);
  check(await page.$eval('.chart-axis', (e: Element) => /log p/.test(e.textContent ?? '')), 'the axis says its unit');

  await page.click('#pair-q3');
  const text: string = await page.evaluate(() => document.body.innerText);
  check(!/[−-]0\.00\b/.test(text), 'no −0.00 anywhere on the page');

  await page.click('#pair-q2');
  await page.focus('[role="listbox"]');
  await page.keyboard.press('ArrowDown');
  check((await page.getAttribute('[role="listbox"]', 'aria-activedescendant')) === 'pair-q1', 'ArrowDown selects the next pair');
  check(await page.evaluate(() => document.activeElement?.getAttribute('role') === 'listbox'), 'focus stays in the list after re-render');
  await page.keyboard.press('Enter');
  await page.click('#pair-q2');
  const sent: any[] = await page.evaluate(() => (window as any).__sent);
  const reveals = sent.filter((m) => m.type === 'revealPair').map((m) => m.pairId);
  check(reveals.join(' ') === 'q3 q2 q1 q2' && sent.every((m) => m.type !== 'revealPair' || m.summaryUri === summary.uri), `clicks and Enter ask to reveal the pair (${reveals.join(' ')})`);
  await page.click('vscode-button[data-pair-action="showInSource"]');
  check((await page.evaluate(() => (window as any).__sent)).some((m: any) => m.type === 'showInSource' && m.pairId === 'q2'), '"Show in source" sends its message');
  const saved = await page.evaluate(() => (window as any).acquireVsCodeApi().getState());
  check(saved?.selectedPairId === 'q2' && saved?.showSpecial === false, 'selection and the ⟨sep⟩ toggle saved with setState');
  const injected = await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__injected = 1';
    document.body.appendChild(s);
    return (window as any).__injected === 1;
  });
  check(!injected, 'an inline script is blocked by the CSP');
  if (screenshot) {
    await page.mouse.move(0, 0);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.click('#pair-q2');
    const file = resolve(root, screenshot);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, await page.screenshot({ fullPage: true }));
    console.log(`screenshot: ${file}`);
  }
  await page.close();

  // A wide view puts the chart beside the list.
  const wide = await open(theme, 760);
  const [d, l] = [await box(wide, '.region-detail'), await box(wide, '.region-list')];
  check(d.left >= l.right && Math.abs(d.top - l.top) < 2, `chart beside the list at 760px (list ${l.left}-${l.right}, chart from ${d.left})`);
  await wide.close();

  // Every theme: the two series differ in colour, and in pattern (hatched source) besides.
  for (const name of THEME_NAMES) {
    const p = await open(name, SIDEBAR_WIDTH);
    const look = (sel: string) =>
      p.$eval(sel, (e: Element) => {
        const cs = getComputedStyle(e);
        return { color: cs.backgroundColor, image: cs.backgroundImage };
      });
    const [sum, src] = [await look('.token-row .bar-summary'), await look('.token-row .bar-source')];
    const apart = hueDistance(sum.color, src.color);
    check(apart >= 45 && sum.image === 'none' && /repeating-linear-gradient/.test(src.image), `${name}: summary ${sum.color} solid, source ${src.color} hatched (hues ${apart.toFixed(0)}° apart)`);
    await p.close();
  }
  // The only violation allowed is the one provoked above.
  const unexpected = problems.filter((p) => !/inline script/i.test(p));
  check(unexpected.length === 0, `no console errors or CSP violations${unexpected.length ? `: ${unexpected.join(' | ')}` : ''}`);
} finally {
  await browser.close();
  server.close();
}
console.log(`${failures.length === 0 ? 'all' : failures.length} checks ${failures.length === 0 ? 'passed' : 'failed'}`);
process.exit(failures.length === 0 ? 0 : 1);
