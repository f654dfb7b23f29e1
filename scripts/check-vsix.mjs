// Checks the packaged extension as users get it: builds the VSIX for this platform (scripts/
// package.mjs), checks what is inside it, then installs it into a fresh code-server and runs
// test/integration/suite/vsix.test.ts against the installed copy (test/integration/run.mjs --vsix).
//
//   node scripts/check-vsix.mjs [--no-package] [--contents-only] [FILE.vsix]
//   (npm run test:vsix; part of npm run test:integration)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const args = process.argv.slice(2);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const target = `${process.platform}-${process.arch}`;
const vsix = resolve(args.find((a) => a.endsWith('.vsix')) ?? join(ROOT, `${pkg.name}-${pkg.version}-${target}.vsix`));

function die(message) {
  console.error(`check-vsix: ${message}`);
  process.exit(1);
}

function run(argv) {
  const r = spawnSync(process.execPath, argv, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) die(`node ${argv.join(' ')} failed (${r.status ?? r.signal})`);
}

/** The entries of a zip file, from its central directory: name -> { method, size, offset }. */
function zipEntries(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) die(`${vsix} is not a zip file`);
  const entries = new Map();
  let at = buf.readUInt32LE(eocd + 16);
  for (let i = buf.readUInt16LE(eocd + 10); i > 0; i--) {
    if (buf.readUInt32LE(at) !== 0x02014b50) die(`${vsix}: corrupt central directory`);
    const [nameLen, extraLen, commentLen] = [buf.readUInt16LE(at + 28), buf.readUInt16LE(at + 30), buf.readUInt16LE(at + 32)];
    const name = buf.toString('utf8', at + 46, at + 46 + nameLen);
    entries.set(name, { method: buf.readUInt16LE(at + 10), size: buf.readUInt32LE(at + 20), offset: buf.readUInt32LE(at + 42) });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

function readEntry(buf, entry) {
  const start = entry.offset + 30 + buf.readUInt16LE(entry.offset + 26) + buf.readUInt16LE(entry.offset + 28);
  const data = buf.subarray(start, start + entry.size);
  return entry.method === 8 ? inflateRawSync(data) : data;
}

/** What the VSIX must and must not carry; returns the problems found. */
function checkContents(names, manifest) {
  const problems = [];
  const required = [
    'extension/package.json',
    'extension/dist/extension.js',
    'extension/dist/server.js',
    'extension/dist/cli.js',
    'extension/dist/webview/main.js',
    'extension/dist/webview/main.css',
    'extension/README.md',
    'extension/CHANGELOG.md',
    `extension/${manifest.icon}`,
    'extension/node_modules/onnxruntime-node/package.json',
    'extension/node_modules/onnxruntime-common/package.json',
    // The walkthrough's pages and "Open Example Summary"'s bundled pair.
    ...manifest.contributes.walkthroughs.flatMap((w) => w.steps.map((s) => `extension/${s.media.markdown}`)),
    'extension/media/walkthrough/example/boxing.summary.md',
    'extension/media/walkthrough/example/boxing.md',
  ];
  // vsce writes README.md and CHANGELOG.md as readme.md and changelog.md.
  const lower = new Set(names.map((n) => n.toLowerCase()));
  for (const r of required) if (!lower.has(r.toLowerCase())) problems.push(`missing ${r}`);
  if (!names.some((n) => /^extension\/LICENSE(\.txt|\.md)?$/i.test(n))) problems.push('missing the LICENSE file');
  // Every image the README shows is shipped (the Marketplace page renders the README from the VSIX).
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const [, img] of readme.matchAll(/!\[[^\]]*\]\((docs\/images\/[^)\s]+)\)/g)) if (!names.includes(`extension/${img}`)) problems.push(`missing README image ${img}`);
  const native = names.filter((n) => n.endsWith('.node'));
  if (!native.some((n) => n.includes(`/bin/napi-v6/${process.platform}/${process.arch}/`))) problems.push(`no onnxruntime binding for ${target}`);
  const foreign = native.filter((n) => !n.includes(`/bin/napi-v6/${process.platform}/${process.arch}/`));
  if (foreign.length) problems.push(`native binaries of other platforms: ${foreign.join(', ')}`);
  // Models are chosen by the user (or downloaded), never shipped; sources, tests, caches neither.
  const forbidden = [/^extension\/(src|test|bench|scripts|webview|examples|models|out|\.cache|\.ci|\.github)\//, /\.map$/, /\.ts$/, /\.vsix$/, /(^|\/)tsconfig[^/]*\.json$/, /\.onnx$/];
  for (const n of names) if (forbidden.some((f) => f.test(n))) problems.push(`should not ship ${n}`);
  return problems;
}

if (!args.includes('--no-package')) run(['scripts/package.mjs']);
if (!existsSync(vsix)) die(`no VSIX at ${vsix}: npm run package`);
const buf = readFileSync(vsix);
const entries = zipEntries(buf);
const names = [...entries.keys()];
const manifestEntry = entries.get('extension/package.json');
if (!manifestEntry) die(`${vsix} has no extension/package.json`);
const manifest = JSON.parse(readEntry(buf, manifestEntry).toString('utf8'));
const problems = checkContents(names, manifest);
const mb = (buf.length / 1048576).toFixed(1);
if (problems.length) die(`${vsix} (${mb} MB, ${names.length} files):\n  ${problems.join('\n  ')}`);
console.log(`check-vsix: ${vsix}: ${names.length} files, ${mb} MB; contents ok`);
if (!args.includes('--contents-only')) run(['test/integration/run.mjs', '--no-build', '--vsix', vsix]);
