// Builds one .vsix per target platform with vsce. The bundles (dist/) need only one package at
// run time, onnxruntime-node (native, kept external) with onnxruntime-common; they are staged with
// the target's native binaries only, so a linux-x64 VSIX carries no Windows or macOS libraries.
//
//   npm run package                       # the current platform
//   npm run package -- --target all       # every platform onnxruntime-node ships binaries for
//   npm run package -- --target linux-arm64,win32-x64
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
// VS Code target -> onnxruntime-node's bin/napi-v6/<platform>/<arch> (it ships no darwin-x64 build).
const TARGETS = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'win32-x64': 'win32/x64',
  'win32-arm64': 'win32/arm64',
  'darwin-arm64': 'darwin/arm64',
};
const RUNTIME_PACKAGES = ['onnxruntime-node', 'onnxruntime-common'];

function die(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

function run(cmd, args, cwd = ROOT) {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' });
  if (r.status !== 0) die(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

const arg = process.argv.includes('--target') ? process.argv[process.argv.indexOf('--target') + 1] : `${process.platform}-${process.arch}`;
const targets = arg === 'all' ? Object.keys(TARGETS) : arg.split(',');
for (const t of targets) if (!TARGETS[t]) die(`unknown target "${t}"; one of: ${Object.keys(TARGETS).join(', ')}, all`);

run(process.execPath, ['scripts/build.mjs', '--production']);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const vsce = join(ROOT, 'node_modules/@vscode/vsce/vsce');
if (!existsSync(vsce)) die('@vscode/vsce is not installed: npm ci');

for (const target of targets) {
  const stage = join(ROOT, '.cache/package', target);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  for (const f of ['dist', 'README.md', 'LICENSE', 'CHANGELOG.md', '.vscodeignore', 'docs/images', 'media']) {
    if (existsSync(join(ROOT, f))) cpSync(join(ROOT, f), join(stage, f), { recursive: true });
  }
  // The staged manifest declares only the runtime package; everything else is bundled.
  const manifest = { ...pkg, dependencies: { 'onnxruntime-node': pkg.dependencies['onnxruntime-node'] }, devDependencies: {}, scripts: {} };
  writeFileSync(join(stage, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  for (const name of RUNTIME_PACKAGES) {
    cpSync(join(ROOT, 'node_modules', name), join(stage, 'node_modules', name), { recursive: true, dereference: true });
  }
  // adm-zip and global-agent serve only onnxruntime-node's install script, which the VSIX does not run.
  const ortManifest = join(stage, 'node_modules/onnxruntime-node/package.json');
  const ort = JSON.parse(readFileSync(ortManifest, 'utf8'));
  ort.dependencies = { 'onnxruntime-common': ort.dependencies['onnxruntime-common'] };
  delete ort.scripts;
  writeFileSync(ortManifest, JSON.stringify(ort, null, 2) + '\n');
  rmSync(join(stage, 'node_modules/onnxruntime-node/script'), { recursive: true, force: true });
  const bin = join(stage, 'node_modules/onnxruntime-node/bin/napi-v6');
  const keep = TARGETS[target];
  for (const platform of readdirSync(bin)) {
    for (const archDir of readdirSync(join(bin, platform))) {
      if (`${platform}/${archDir}` !== keep) rmSync(join(bin, platform, archDir), { recursive: true, force: true });
    }
    if (readdirSync(join(bin, platform)).length === 0) rmSync(join(bin, platform), { recursive: true });
  }
  if (!existsSync(join(bin, keep))) die(`onnxruntime-node has no binaries for ${target} (${keep})`);
  const out = join(ROOT, `${pkg.name}-${pkg.version}-${target}.vsix`);
  const tmp = out.replace(/\.vsix$/, '.tmp.vsix');
  // vsce asks npm for the production tree of the stage: exactly the two runtime packages.
  run(process.execPath, [vsce, 'package', '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links', '--target', target, '--out', tmp], stage);
  renameSync(tmp, out);
  console.log(`packaged ${out}`);
}
