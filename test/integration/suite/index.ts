/**
 * Entry point of the integration suite inside a real VS Code extension host: code-server through
 * test/integration/run.mjs, or a desktop VS Code through @vscode/test-electron (see README.md
 * here). Prints `QUALS-RESULT N passed, N failed` for the harness and rejects on failure.
 */
/// <reference types="mocha" />
import Mocha from 'mocha';
import { registerExtensionTests } from './extension.test';
import { registerExplorerTests } from './explorer.test';
import { registerLocalisationTests } from './localisation.test';
import { registerEditorUxTests } from './editor-ux.test';
import { registerModelPickerTests } from './model-picker.test';
import { registerModelSettingsTests } from './model-settings.test';
import { registerModelVariantTests } from './model-variant.test';
import { registerUntrustedTests } from './untrusted.test';
import { registerScreenshotTests } from './screenshots.test';
import { registerVsixTests } from './vsix.test';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', timeout: 60_000, color: false, reporter: 'spec', ...(process.env.QUALS_TEST_GREP ? { grep: process.env.QUALS_TEST_GREP } : {}) });
  // The tests are bundled into this file: define them after mocha installed its tdd globals.
  mocha.suite.emit('pre-require', globalThis, 'extension.test.ts', mocha);
  // run.mjs --untrusted opens the workspace in restricted mode, where only these tests apply.
  if (process.env.QUALS_TEST_SUITE === 'untrusted') registerUntrustedTests();
  // run.mjs --screenshots and --vsix open examples/, where only their own tests apply.
  else if (process.env.QUALS_TEST_SUITE === 'screenshots') registerScreenshotTests();
  else if (process.env.QUALS_TEST_SUITE === 'vsix') registerVsixTests();
  else {
    registerExtensionTests();
    registerExplorerTests();
    registerLocalisationTests(); // after the explorer's own tests: it leaves the explorer showing boxing
    registerEditorUxTests();
    registerModelSettingsTests();
    registerModelVariantTests(); // switches the user's model and variant (and switches them back)
    registerModelPickerTests(); // last: it switches the user's model (and switches it back)
  }
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const passed = runner.stats?.passes ?? 0;
      console.log(`QUALS-RESULT ${passed} passed, ${failures} failed`);
      if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
      else resolve();
    });
  });
}
