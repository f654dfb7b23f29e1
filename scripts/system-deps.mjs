// Run first by `npm run test:integration`: the real-VS-Code suite needs Debian packages
// (chromium, ripgrep, libkrb5-dev, build-essential, python3; see .ci/integration-setup.sh).
// As root they are installed here, so the README's one test line works on a fresh machine; as
// another user this stops with what to run instead of "0 passed, 1 failed".
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const missing = [
  ...(existsSync(chromium) ? [] : ['chromium']),
  ...(has('rg') ? [] : ['ripgrep']),
  ...(has('g++') && has('make') ? [] : ['build-essential']),
  ...(has('python3') ? [] : ['python3']),
  ...(existsSync('/usr/include/gssapi/gssapi.h') ? [] : ['libkrb5-dev']),
];
if (missing.length === 0) process.exit(0);
if (process.platform !== 'linux' || !has('apt-get')) {
  process.stderr.write(`test:integration needs ${missing.join(', ')} (Chromium at ${chromium}, or set CHROMIUM); install them, then run the tests again.\n`);
  process.exit(1);
}
if (process.getuid?.() !== 0) {
  process.stderr.write(`test:integration needs the Debian packages ${missing.join(' ')}, and installing them needs root: run \`sudo sh .ci/integration-setup.sh\`, then \`npm test\` again.\n`);
  process.exit(1);
}
process.stdout.write(`test:integration: installing ${missing.join(' ')} (apt-get, .ci/integration-setup.sh)\n`);
const r = spawnSync('sh', [path.join(root, '.ci/integration-setup.sh')], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
process.exit(r.status ?? 1);
