// Batch throughput (pairs per second) of `quals batch` on the toy model with 1 and 2 worker
// processes, printed as a ratio measured within this run. Needs `npm run build` (dist/cli.js).
// BENCH_PAIRS (default 96) and BENCH_BEAMS (default 16) size the run. Each process gets one ONNX
// Runtime thread so the ratio shows scaling by processes, not by intra-op threads (which on a busy
// machine can even slow a tiny model down).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const cli = path.resolve(process.env.QUALS_CLI ?? 'dist/cli.js');
const model = path.resolve('models/tiny-qagen');
const pairs = Number(process.env.BENCH_PAIRS ?? 96);
const beams = process.env.BENCH_BEAMS ?? '16';
if (!fs.existsSync(cli)) {
  console.error(`batch-bench: ${cli} is missing; run \`npm run build\` first.`);
  process.exit(1);
}

const people = ['Fury', 'Klitschko', 'Joshua', 'Wilder', 'Usyk', 'Parker', 'Ruiz', 'Whyte'];
const cities = ['Paris', 'London', 'Berlin', 'Madrid', 'Rome', 'Vienna', 'Prague'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-batch-bench-'));
const input = path.join(tmp, 'in.jsonl');
fs.writeFileSync(
  input,
  Array.from({ length: pairs }, (_, i) => {
    const [a, b, c] = [people[i % 8], people[(i + 3) % 8], cities[i % 7]];
    return JSON.stringify({ id: i, document: `${a} beat ${b} in ${c} on Saturday. ${1000 + i} fans watched the fight.`, summary: `${a} beat ${b} in ${cities[(i + (i % 2)) % 7]}.` });
  }).join('\n') + '\n',
);

function measure(workers: number): { rate: number; wall: number } {
  const out = path.join(tmp, `out-${workers}.jsonl`);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, 'batch', '--in', input, '--out', out, '--overwrite', '--quiet', '--model', model, '--device', 'cpu', '--beams', beams, '--groups', beams, '--workers', String(workers), '--threads', '1'], { encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`quals batch --workers ${workers} failed:\n${r.stderr}`);
  // The command's own rate excludes model loading, which a long batch amortises.
  const m = /\(([\d.]+) lines\/s\)/.exec(r.stderr);
  if (!m) throw new Error(`no rate in the output of quals batch:\n${r.stderr}`);
  return { rate: Number(m[1]), wall };
}

try {
  console.log(`batch throughput: ${pairs} pairs, toy model, ${beams} beams in ${beams} groups, 1 ORT thread per process, ${os.availableParallelism()} CPUs`);
  measure(1); // warm the file cache and the model files
  const one = measure(1);
  const two = measure(2);
  console.log(`  1 worker : ${one.rate.toFixed(2)} pairs/s (wall ${one.wall.toFixed(1)} s with model load)`);
  console.log(`  2 workers: ${two.rate.toFixed(2)} pairs/s (wall ${two.wall.toFixed(1)} s with model load)`);
  console.log(`  ratio 2 workers / 1 worker: ${(two.rate / one.rate).toFixed(2)}x`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
