// Runs the integration suite (test/integration/suite/) inside a real VS Code: code-server 4.100.3
// (VS Code 1.100.3) loaded by headless Chromium through playwright-core. Both are installed on
// demand into .cache/vscode-test/ (like @vscode/test-electron downloads VS Code), so the
// extension's own node_modules stay clean. Every run gets a fresh copy of the fixture workspace and
// its own HOME/XDG/TMPDIR; code-server binds 127.0.0.1 and its whole process group is killed.
//
//   node test/integration/run.mjs [--no-build] [--grep <pattern>] [--bundle-only] [--untrusted | --screenshots | --vsix FILE]
//   --untrusted: workspace trust on, the fixture never trusted, restricted workspace settings
//   written into it; runs only suite/untrusted.test.ts
//   --screenshots: opens a copy of examples/ (not the fixture) and runs only suite/screenshots.test.ts,
//   which retakes the README's pictures into docs/images/ (`npm run screenshots`)
//   --vsix FILE: installs the packaged extension into a fresh extensions folder with code-server's
//   own --install-extension, opens a copy of examples/ and runs only suite/vsix.test.ts against the
//   INSTALLED copy (scripts/check-vsix.mjs packages, checks the contents and runs this)
//   env: QUALS_TEST_MODEL   model folder (default models/tiny-qagen)
//        CHROMIUM           browser binary (default /usr/bin/chromium)
//        QUALS_SCREENSHOT   where the screenshots go: `QUALS-SCREENSHOT name` writes name.png in its
//                           folder (default out/integration/squiggle-hover.png; --screenshots: docs/images/)
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { ensureHfFixtures } from '../../scripts/hf-fixtures.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CODE_SERVER = '4.100.3';
const PLAYWRIGHT = '1.65.1';
const CACHE = join(ROOT, '.cache', 'vscode-test', `cs-${CODE_SERVER}`);
const RIPGREP_ASSET = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';
const TIMEOUT_MS = Number(process.env.QUALS_TEST_TIMEOUT_MS ?? 240_000);
const args = process.argv.slice(2);
const grep = args.includes('--grep') ? args[args.indexOf('--grep') + 1] : undefined;
const t0 = Date.now();
const say = (...a) => console.log(`[harness ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

function fail(message) {
  console.error(`integration: ${message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit', ...opts });
  if (r.status !== 0) fail(`${cmd} ${argv.join(' ')} exited with ${r.status ?? r.signal}`);
}

/** Installs code-server + playwright-core into the cache folder once. */
function ensureHost() {
  const marker = join(CACHE, 'installed.json');
  if (existsSync(marker)) return;
  const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) fail(`no Chromium at ${chromium}: apt-get install -y chromium ripgrep libkrb5-dev (see .ci/integration-setup.sh)`);
  if (!existsSync('/usr/bin/rg')) fail('no /usr/bin/rg: apt-get install -y ripgrep (code-server\'s @vscode/ripgrep is seeded from it)');
  say(`installing code-server ${CODE_SERVER} and playwright-core ${PLAYWRIGHT} into ${CACHE} (once; a few minutes)`);
  mkdirSync(CACHE, { recursive: true });
  writeFileSync(join(CACHE, 'package.json'), JSON.stringify({ name: 'quals-vscode-test-host', private: true }) + '\n');
  // @vscode/ripgrep's postinstall downloads rg from GitHub: seed its cache with the system rg.
  const rgCache = join(tmpdir(), 'vscode-ripgrep-cache-1.15.11');
  if (!existsSync(join(rgCache, RIPGREP_ASSET))) {
    const staging = mkdtempSync(join(tmpdir(), 'rg-'));
    mkdirSync(rgCache, { recursive: true });
    cpSync('/usr/bin/rg', join(staging, 'rg'));
    run('tar', ['czf', join(rgCache, RIPGREP_ASSET), '-C', staging, 'rg']);
  }
  run('npm', ['install', '--no-audit', '--no-fund', `code-server@${CODE_SERVER}`, `playwright-core@${PLAYWRIGHT}`], {
    cwd: CACHE,
    env: {
      ...process.env,
      // code-server's postinstall runs `npm install` in lib/vscode (node-pty runs `npx node-gyp`); as root
      // it insists on unsafe-perm; npm >= 11.6 blocks dependency install scripts unless allowed.
      npm_config_yes: 'true',
      npm_config_unsafe_perm: 'true',
      npm_config_dangerously_allow_all_scripts: 'true',
    },
  });
  if (!existsSync(join(CACHE, 'node_modules/code-server/lib/vscode/node_modules.asar'))) {
    fail('code-server\'s postinstall did not run (lib/vscode/node_modules.asar missing); see the npm output above');
  }
  writeFileSync(marker, JSON.stringify({ codeServer: CODE_SERVER, playwright: PLAYWRIGHT, at: new Date().toISOString() }) + '\n');
}

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

async function main() {
  const model = resolve(process.env.QUALS_TEST_MODEL ?? join(ROOT, 'models/tiny-qagen'));
  if (!args.includes('--bundle-only') && !existsSync(join(model, 'onnx/encoder_model.onnx'))) {
    fail(`no model at ${model} (onnx/encoder_model.onnx missing); set QUALS_TEST_MODEL to a model folder`);
  }
  if (!args.includes('--no-build')) run(process.execPath, ['scripts/build.mjs'], { cwd: ROOT });
  // The suite is bundled like the extension; mocha stays a real package (it loads files dynamically).
  const esbuild = createRequire(join(ROOT, 'package.json'))('esbuild');
  await esbuild.build({
    entryPoints: [join(ROOT, 'test/integration/suite/index.ts')],
    outfile: join(ROOT, 'out/integration/suite.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
  if (args.includes('--bundle-only')) return; // test/integration/electron.mjs runs the bundle in desktop VS Code
  ensureHost();

  const tmp = mkdtempSync(join(tmpdir(), 'quals-it-'));
  const untrusted = args.includes('--untrusted');
  const screenshots = args.includes('--screenshots');
  const vsix = args.includes('--vsix') ? resolve(args[args.indexOf('--vsix') + 1] ?? '') : undefined;
  if (vsix && !existsSync(vsix)) fail(`no VSIX at ${vsix}: npm run package`);
  // The README's pictures and the packaged extension are shown on the shipped examples, as a user
  // would open them; the other suites run on the fixture workspace.
  const onExamples = screenshots || vsix !== undefined;
  const workspace = join(tmp, onExamples ? 'examples' : 'workspace');
  cpSync(join(ROOT, onExamples ? 'examples' : 'test/integration/fixture'), workspace, { recursive: true });
  const suiteName = untrusted ? 'untrusted' : screenshots ? 'screenshots' : vsix ? 'vsix' : undefined;
  if (untrusted) {
    // Settings that would break QUALS if VS Code applied them (suite/untrusted.test.ts reads them back).
    mkdirSync(join(workspace, '.vscode'));
    writeFileSync(
      join(workspace, '.vscode/settings.json'),
      JSON.stringify({ 'quals.model': 'no-such-model-folder', 'quals.pairs': [{ summary: '**/*.summary.md', source: 'nowhere/$1.md' }] }),
    );
  }
  const userData = join(tmp, 'user-data');
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(
    join(userData, 'User/settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': untrusted,
      ...(untrusted ? { 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.banner': 'never' } : {}),
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'update.mode': 'none',
      'workbench.tips.enabled': false,
      'editor.hover.delay': 100,
      'quals.model': model,
    }),
  );
  for (const d of ['home', 'config', 'data', 'cache', 'tmp']) mkdirSync(join(tmp, d), { recursive: true });
  // suite/model-picker.test.ts: a loopback hub serving a tiny checkpoint, offered as a recommended model.
  // Not for the README's picture of the picker, which lists only the real recommended models.
  const hub = suiteName ? undefined : await startPickerHub();
  const screenshot = resolve(process.env.QUALS_SCREENSHOT ?? join(ROOT, screenshots ? 'docs/images' : 'out/integration', 'squiggle-hover.png'));
  const extensionsDir = join(tmp, 'extensions');
  const env = {
    ...process.env,
    HOME: join(tmp, 'home'),
    XDG_CONFIG_HOME: join(tmp, 'config'),
    XDG_DATA_HOME: join(tmp, 'data'),
    XDG_CACHE_HOME: join(tmp, 'cache'),
    TMPDIR: join(tmp, 'tmp'),
    QUALS_TEST_MODEL: model,
    QUALS_TEST_WORKSPACE: workspace,
    QUALS_TEST_SIGNAL_DIR: join(tmp, 'signals'),
    QUALS_TEST_EXTENSIONS_DIR: extensionsDir,
    ...(suiteName ? { QUALS_TEST_SUITE: suiteName } : {}),
    ...(hub?.env ?? {}),
    ...(grep ? { QUALS_TEST_GREP: grep } : {}),
  };
  mkdirSync(env.QUALS_TEST_SIGNAL_DIR);

  const port = await freePort();
  const root = join(CACHE, 'node_modules/code-server');
  const entry = join(root, 'out/node/entry.js');
  // --vsix: the extension under test is the installed one; the development "extension" is an empty
  // probe that only carries the suite (VS Code runs extension tests only in development mode).
  let devPath = ROOT;
  if (vsix) {
    say(`installing ${vsix} into a fresh ${extensionsDir}`);
    run(process.execPath, [entry, '--install-extension', vsix, '--extensions-dir', extensionsDir, '--user-data-dir', userData], { env });
    devPath = join(tmp, 'probe');
    mkdirSync(devPath);
    writeFileSync(join(devPath, 'package.json'), JSON.stringify({ name: 'quals-vsix-probe', publisher: 'quals-test', version: '0.0.0', engines: { vscode: '^1.95.0' } }));
  }
  const cs = spawn(
    process.execPath,
    [entry, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
      ...(untrusted ? [] : ['--disable-workspace-trust']), '--extensions-dir', extensionsDir, '--user-data-dir', userData],
    { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let csLog = '';
  cs.stdout.on('data', (d) => (csLog += d));
  cs.stderr.on('data', (d) => (csLog += d));
  let browser;
  const cleanup = async () => {
    await browser?.close().catch(() => undefined);
    await hub?.close().catch(() => undefined);
    try {
      process.kill(-cs.pid, 'SIGKILL'); // the group: code-server, its extension host and our language server
    } catch {
      // already gone
    }
    if (!process.env.QUALS_KEEP_TMP) rmSync(tmp, { recursive: true, force: true });
  };
  process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

  try {
    for (let i = 0; !/HTTP server listening/.test(csLog); i++) {
      if (i > 300 || cs.exitCode !== null) throw new Error(`code-server did not start:\n${csLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    say(`code-server ${CODE_SERVER} on 127.0.0.1:${port}`);
    const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', remote(devPath)],
      ['extensionTestsPath', remote(join(ROOT, 'out/integration/suite.js'))],
      ['skipWelcome', 'true'],
    ]);
    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(payload)}`;
    const { chromium } = createRequire(join(CACHE, 'package.json'))('playwright-core');
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage({ viewport: { width: 1100, height: 640 } });
    let finish;
    const exited = new Promise((r) => (finish = r));
    const counts = { passed: 0, failed: 0 };
    await page.exposeFunction('codeAutomationLog', (_type, a) => {
      const line = format(...(a ?? []));
      const m = /^QUALS-RESULT (\d+) passed, (\d+) failed/.exec(line);
      if (m) Object.assign(counts, { passed: Number(m[1]), failed: Number(m[2]), reported: true });
      else if (/^QUALS-SCREENSHOT( [\w-]+)?$/.test(line.trim())) {
        // `QUALS-SCREENSHOT name` writes name.png beside the squiggle + hover one.
        const name = line.trim().split(' ')[1];
        void takeScreenshot(page, name ? join(dirname(screenshot), `${name}.png`) : screenshot, env.QUALS_TEST_SIGNAL_DIR);
      }
      else if (/^QUALS-PAGE /.test(line.trim())) void pageRequest(page, line.trim().slice('QUALS-PAGE '.length), env.QUALS_TEST_SIGNAL_DIR);
      else if (/^QUALS-QUERY [\w-]+ /.test(line)) {
        const [, id, selector] = /^QUALS-QUERY ([\w-]+) (.*)$/s.exec(line);
        void queryDom(page, id, selector, env.QUALS_TEST_SIGNAL_DIR);
      }
      else console.log(line);
    });
    await page.exposeFunction('codeAutomationExit', (code) => finish(code));
    const timer = setTimeout(() => finish('timeout'), TIMEOUT_MS);
    await page.goto(url);
    const code = await exited;
    clearTimeout(timer);
    if (code === 'timeout') console.error(`integration: the suite did not finish within ${TIMEOUT_MS / 1000} s`);
    if (!counts.reported) counts.failed = Math.max(counts.failed, 1);
    say(`extension tests exited with ${code}`);
    console.log(`${counts.passed} passed, ${counts.failed} failed`);
    await cleanup();
    process.exit(code === 0 && counts.failed === 0 ? 0 : 1);
  } catch (e) {
    console.error(e);
    console.log('0 passed, 1 failed');
    await cleanup();
    process.exit(1);
  }
}

/**
 * Starts test/support/fake-hub.mjs with the random tiny BART checkpoint under a fake id; returns
 * the environment that points the language server at it (HF_ENDPOINT) and lists it in the model
 * picker (QUALS_TEST_EXTRA_MODELS). Without the fake hub the picker test skips itself.
 */
async function startPickerHub() {
  const module = join(ROOT, 'test/support/fake-hub.mjs');
  if (!existsSync(module)) return undefined;
  const { startFakeHub } = await import(pathToFileURL(module).href);
  const id = 'quals-test/bart-a-qag';
  ensureHfFixtures();
  const hub = await startFakeHub({ repos: { [id]: join(ROOT, 'test/fixtures/hf-reference/bart-a/hf') } });
  const extra = { id, name: 'bart-a (random tiny BART checkpoint)', sizeMB: 7, license: 'unknown', goodFor: 'Integration tests: served by the loopback hub.' };
  return { close: () => hub.close(), env: { HF_ENDPOINT: hub.url, QUALS_TEST_EXTRA_MODELS: JSON.stringify([extra]) } };
}

/**
 * What the suite cannot do from the extension host (suite/helpers.ts `page`): `type TEXT` replaces
 * the focused input's text (VS Code's own file dialog), `key KEY` presses one key,
 * `click SELECTOR` clicks (a playwright selector), `text SELECTOR` reads the innerText of the visible elements it matches. The answer is written to
 * signals/page.json.
 */
async function pageRequest(page, request, signalDir) {
  const [verb, ...rest] = request.split(' ');
  const arg = rest.join(' ');
  let answer;
  try {
    if (verb === 'type') {
      await page.keyboard.press('Control+A');
      await page.keyboard.type(arg);
      answer = { ok: true };
    } else if (verb === 'key') {
      await page.keyboard.press(arg);
      answer = { ok: true };
    } else if (verb === 'click') {
      await page.click(arg, { timeout: 5000 });
      answer = { ok: true };
    } else if (verb === 'text') {
      answer = { ok: true, text: await page.$$eval(arg, (els) => els.filter((e) => e.getClientRects().length > 0 && getComputedStyle(e).display !== 'none').map((e) => e.innerText)) };
    } else answer = { ok: false, error: `unknown page request "${verb}"` };
  } catch (e) {
    answer = { ok: false, error: String(e) };
  }
  writeFileSync(join(signalDir, 'page.json.tmp'), JSON.stringify(answer));
  renameSync(join(signalDir, 'page.json.tmp'), join(signalDir, 'page.json'));
}

/** The suite asks for a screenshot when a squiggle and its hover are on screen; it waits for the signal file. */
async function takeScreenshot(page, file, signalDir) {
  try {
    mkdirSync(dirname(file), { recursive: true });
    const tmpFile = `${file}.tmp.png`;
    await page.screenshot({ path: tmpFile });
    renameSync(tmpFile, file);
    say(`screenshot saved: ${file}`);
  } catch (e) {
    say(`screenshot failed: ${e}`);
  } finally {
    writeFileSync(join(signalDir, 'screenshot-done'), '');
  }
}

/**
 * `QUALS-QUERY id selector`: what the page shows, for checks the extension host cannot make (the
 * webview's layout and computed colours). Every frame is searched (webviews are nested iframes);
 * the answer, one entry per match with its box in its frame and computed colours, goes to
 * query-<id>.json in the signal folder (suite/dom-query.ts reads it).
 */
async function queryDom(page, id, selector, signalDir) {
  const found = [];
  for (const frame of page.frames()) {
    try {
      found.push(
        ...(await frame.$$eval(selector, (els) =>
          els.map((e) => {
            const r = e.getBoundingClientRect();
            const cs = getComputedStyle(e);
            return {
              top: r.top, bottom: r.bottom, left: r.left, right: r.right,
              text: (e.textContent ?? '').trim().slice(0, 200),
              backgroundColor: cs.backgroundColor, backgroundImage: cs.backgroundImage,
              bodyClass: document.body.className,
            };
          }),
        )),
      );
    } catch {
      // a frame that navigated away or is not ready: it has nothing to match
    }
  }
  const file = join(signalDir, `query-${id}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(found));
  renameSync(`${file}.tmp`, file);
}

main().catch((e) => fail(e?.stack ?? String(e)));
