/**
 * docs/batch.md's cluster examples cannot drift: the SLURM block is examples/cluster/quals-array.sbatch
 * (the script `npm run test:slurm` submits to a real SLURM), the Kubernetes block is the manifest
 * scripts/cluster-examples.mjs generates (validated against the Job schema by `npm run test:cluster-examples`).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';

test('docs/batch.md shows exactly the tested SLURM script and the generated Indexed Job', async () => {
  const mod = (await import(String(new URL('../../scripts/cluster-examples.mjs', import.meta.url)))) as { renderDoc(doc: string): string; renderYaml(): string };
  const doc = fs.readFileSync('docs/batch.md', 'utf8');
  assert.equal(mod.renderDoc(doc), doc, 'run `node scripts/cluster-examples.mjs --write`');
  assert.equal(fs.readFileSync('examples/cluster/quals-indexed-job.yaml', 'utf8'), mod.renderYaml());
  assert.ok(doc.includes(fs.readFileSync('examples/cluster/quals-array.sbatch', 'utf8')));
});
