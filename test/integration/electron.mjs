// Runs the same integration suite in a desktop VS Code downloaded by @vscode/test-electron, for
// machines that can reach update.code.visualstudio.com (the CI machine cannot: it uses run.mjs).
//
//   npm install --no-save @vscode/test-electron && node test/integration/run.mjs --bundle-only \
//     && node test/integration/electron.mjs
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { runTests } = await import('@vscode/test-electron').catch(() => {
  console.error('integration (electron): npm install --no-save @vscode/test-electron first');
  process.exit(1);
});
const model = resolve(process.env.QUALS_TEST_MODEL ?? join(ROOT, 'models/tiny-qagen'));
const tmp = mkdtempSync(join(tmpdir(), 'quals-it-electron-'));
const workspace = join(tmp, 'workspace');
cpSync(join(ROOT, 'test/integration/fixture'), workspace, { recursive: true });
const userData = join(tmp, 'user-data');
mkdirSync(join(userData, 'User'), { recursive: true });
writeFileSync(
  join(userData, 'User/settings.json'),
  JSON.stringify({ 'security.workspace.trust.enabled': false, 'workbench.startupEditor': 'none', 'quals.model': model }),
);
try {
  await runTests({
    version: process.env.VSCODE_VERSION ?? '1.100.3',
    extensionDevelopmentPath: ROOT,
    extensionTestsPath: join(ROOT, 'out/integration/suite.js'),
    launchArgs: [workspace, '--disable-extensions', '--user-data-dir', userData],
    extensionTestsEnv: { QUALS_TEST_MODEL: model, QUALS_TEST_WORKSPACE: workspace },
  });
  console.log('integration (electron): passed');
} catch {
  console.error('integration (electron): failed');
  process.exit(1);
}
