// `npm run bench`: every benchmark, each printing ratios measured within its own run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// The BART-large-shaped GPU figure only where it means something (a ~3.4 GB model and minutes of
// CPU otherwise): QUALS_BENCH_DEVICE=cuda, or QUALS_BENCH_LARGE=1 to check its path on the CPU.
const large = process.env.QUALS_BENCH_DEVICE === 'cuda' || process.env.QUALS_BENCH_LARGE === '1';
const benches = ['bench/quals-bench.ts', 'bench/int8-bench.ts', 'bench/long-inputs-bench.ts', 'bench/batch-bench.ts', 'bench/batch-bench.mjs', ...(large ? ['bench/gpu-bench.ts'] : [])].filter((f) => existsSync(f));
let failed = 0;
for (const b of benches) {
  console.log(`\n=== ${b} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', b], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
