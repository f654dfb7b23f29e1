/**
 * The README's test line on a fresh machine: without Chromium, `npm test` (test:integration's first
 * step, scripts/system-deps.mjs) installs the Debian packages as root and, as another user, stops
 * with what to run instead of a bare "0 passed, 1 failed".
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

test('without Chromium and without root: a clear message naming the setup command, exit 1', (t) => {
  if (process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v runuser']).status !== 0) return t.skip('needs root (to run the check as another user)');
  const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, 'scripts/system-deps.mjs'], { encoding: 'utf8', env: { ...process.env, CHROMIUM: '/nonexistent/chromium' } });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /needs the Debian packages chromium.*sudo sh \.ci\/integration-setup\.sh/);
});

