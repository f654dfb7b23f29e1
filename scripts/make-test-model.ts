/**
 * Writes a deterministic random-weight BART in the Optimum layout (for tests and the benchmark).
 * Usage: npx tsx scripts/make-test-model.ts OUT_DIR [--seed N] [--size tiny|base]
 */
import { ensureTestModel, type TestModelSize } from '../src/modelgen/random-bart';

function main(argv: string[]): number {
  const usage = 'usage: npx tsx scripts/make-test-model.ts OUT_DIR [--seed N] [--size tiny|base]';
  let out: string | undefined;
  let seed = 1234;
  let size: TestModelSize = 'tiny';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--seed') {
      seed = Number(argv[++i]);
      if (!Number.isInteger(seed) || seed < 0) return fail(`--seed must be a non-negative integer\n${usage}`);
    } else if (a === '--size') {
      const v = argv[++i];
      if (v !== 'tiny' && v !== 'base') return fail(`--size must be tiny or base\n${usage}`);
      size = v;
    } else if (a.startsWith('-') || out !== undefined) {
      return fail(`unexpected argument ${a}\n${usage}`);
    } else out = a;
  }
  if (!out) return fail(usage);
  const t0 = Date.now();
  ensureTestModel(out, { size, seed });
  console.log(`${out}: random BART (${size}, seed ${seed}) ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
}

function fail(message: string): number {
  console.error(message);
  return 1;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  console.error(`make-test-model: ${(e as Error).message}`);
  process.exitCode = 1;
}
