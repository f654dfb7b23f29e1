// Bundles each entry point with esbuild: the extension host (vscode external), the language
// server and the CLI (onnxruntime-node external: a native addon that must stay a real package),
// and the explorer webview (browser). Type checking is separate: `npm run typecheck`.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};
const node = { ...common, platform: 'node', target: 'node20', format: 'cjs', external: ['vscode', 'onnxruntime-node'] };

const builds = [
  { ...node, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js' },
  { ...node, entryPoints: ['src/server/main.ts'], outfile: 'dist/server.js', banner: { js: '#!/usr/bin/env node' } },
  { ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  {
    ...common,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    entryPoints: ['webview/main.ts'],
    outdir: 'dist/webview',
    loader: { '.css': 'css' },
  },
].filter((b) => (b.entryPoints ?? []).every((e) => existsSync(e)));

if (watch) {
  const { context } = await import('esbuild');
  for (const b of builds) await (await context(b)).watch();
  console.log('watching', builds.map((b) => b.entryPoints[0]).join(', '));
} else {
  await Promise.all(builds.map((b) => build(b)));
  console.log(`built ${builds.map((b) => b.outfile ?? b.outdir).join(', ')}`);
}
