/**
 * Writing a whole folder atomically: everything goes into a hidden staging folder next to the
 * target (same filesystem, so the final rename is atomic), and only a finished folder is renamed
 * into place. A failed or cancelled run removes its staging folder; a killed one leaves a hidden
 * `.NAME.importing-*` folder that is never mistaken for the model.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** A target folder that must not be written: it exists, or writing it would touch the source. */
export class TargetFolderError extends Error {
  override name = 'TargetFolderError';
}

export function isNonEmptyDir(p: string): boolean {
  try {
    return fs.readdirSync(p).length > 0;
  } catch {
    return false;
  }
}

/** `p` with symlinks resolved as far as it exists (a folder that is not there yet resolves through its parent). */
function realish(p: string): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(realish(parent), path.basename(abs));
  }
}

/** Is `inner` the folder `outer` or somewhere below it? */
export function isInside(inner: string, outer: string): boolean {
  const rel = path.relative(realish(outer), realish(inner));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Refuses targets that would overwrite work or write into the source: `target` inside `source`,
 * `source` inside `target`, or an existing non-empty `target` without `overwrite`.
 */
export function checkTarget(source: string, target: string, overwrite: boolean, what: string): void {
  if (isInside(target, source)) {
    throw new TargetFolderError(`The output folder ${target} is inside ${what} ${source}; QUALS never writes into its input, so choose a folder outside it.`);
  }
  if (isInside(source, target)) {
    throw new TargetFolderError(`${what[0]!.toUpperCase()}${what.slice(1)} ${source} is inside the output folder ${target}; choose an output folder that does not contain it.`);
  }
  if (fs.existsSync(target) && !fs.statSync(target).isDirectory()) {
    throw new TargetFolderError(`The output ${target} is a file, not a folder; choose another output folder.`);
  }
  if (isNonEmptyDir(target) && !overwrite) {
    throw new TargetFolderError(`The output folder ${target} already exists and is not empty; pass --overwrite to replace it, or choose another folder.`);
  }
}

/** A fresh staging folder next to `target`. */
export function createStaging(target: string): string {
  const parent = path.dirname(path.resolve(target));
  fs.mkdirSync(parent, { recursive: true });
  // Not mkdtemp: it creates the folder mode 0700, which the finished model folder would keep.
  const staging = path.join(parent, `.${path.basename(target)}.importing-${process.pid}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(staging);
  return staging;
}

/**
 * Moves the finished `staging` folder to `target`. An existing `target` (empty, or replaced with
 * `overwrite`) is moved aside first and deleted only after the new folder is in place.
 */
export function promoteStaging(staging: string, target: string, overwrite: boolean): void {
  const abs = path.resolve(target);
  if (fs.existsSync(abs)) {
    if (isNonEmptyDir(abs) && !overwrite) {
      throw new TargetFolderError(`The output folder ${abs} was created by someone else during the import; the import was not moved there. Pass --overwrite to replace it.`);
    }
    const aside = `${staging}.replaced`;
    fs.renameSync(abs, aside);
    try {
      fs.renameSync(staging, abs);
    } catch (err) {
      fs.renameSync(aside, abs); // put the old folder back: better the old model than none
      throw err;
    }
    fs.rmSync(aside, { recursive: true, force: true });
    return;
  }
  fs.renameSync(staging, abs);
}

export function removeStaging(staging: string): void {
  fs.rmSync(staging, { recursive: true, force: true });
}
