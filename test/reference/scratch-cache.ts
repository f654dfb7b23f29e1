/**
 * The model cache the reference suite hands the engine (load-time splits of genuine Optimum
 * decoders land there): a temporary folder for this run, removed at exit, so the suite never
 * writes into the developer's ~/.cache/quals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string | undefined;

export function referenceCacheDir(): string {
  if (dir === undefined) {
    const made = mkdtempSync(join(tmpdir(), 'quals-reference-cache-'));
    dir = made;
    process.on('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return dir;
}
