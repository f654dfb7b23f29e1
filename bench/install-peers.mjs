// Installs the bench's peer libraries into .cache/bench-peers (never into the project's own
// dependencies): @huggingface/transformers (greedy only: it ignores beam options) and
// @xenova/transformers 2.17 (beam search; its sharp 0.32 downloads libvips, so sharp is overridden
// to 0.33.5, which installs from the npm registry alone). ONNXRUNTIME_NODE_INSTALL=skip keeps
// onnxruntime-node's postinstall from fetching CUDA libraries.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

const dir = '.cache/bench-peers';
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}/package.json`, JSON.stringify({
  name: 'quals-bench-peers',
  private: true,
  dependencies: { '@huggingface/transformers': '4.3.2', '@xenova/transformers': '2.17.2' },
  overrides: { sharp: '0.33.5' },
}, null, 2) + '\n');
const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
process.exit(r.status ?? 1);
