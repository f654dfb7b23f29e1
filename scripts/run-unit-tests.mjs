// Runs every test/unit/**/*.test.ts with Node's built-in runner (TypeScript through tsx).
// Node 20's --test does not expand globs, so the files are listed here.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ensureHfFixtures } from './hf-fixtures.mjs';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? find(p) : p.endsWith('.test.ts') ? [p] : [];
  });
}
ensureHfFixtures();
const filter = process.argv.slice(2);
const files = find('test/unit').filter((f) => filter.length === 0 || filter.some((x) => f.includes(x))).sort();
// Whatever a test writes into the default model cache (load-time splits of foreign decoders,
// hub conversions without a cacheDir) goes into a scratch XDG cache, never the developer's ~/.cache.
const xdgCache = mkdtempSync(join(tmpdir(), 'quals-unit-xdg-cache-'));
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], { stdio: 'inherit', env: { ...process.env, XDG_CACHE_HOME: xdgCache } });
rmSync(xdgCache, { recursive: true, force: true });
process.exit(r.status ?? 1);
