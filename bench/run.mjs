// `npm run bench`: every benchmark, each printing ratios measured within its own run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const benches = ['bench/quals-bench.ts', 'bench/int8-bench.ts', 'bench/long-inputs-bench.ts', 'bench/batch-bench.ts', 'bench/batch-bench.mjs'].filter((f) => existsSync(f));
let failed = 0;
for (const b of benches) {
  console.log(`\n=== ${b} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', b], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
