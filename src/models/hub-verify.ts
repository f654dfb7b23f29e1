/**
 * Checks a hub cache folder against the manifest that vouches for it: each recorded file's size
 * and checksum (sha256 for LFS files, git blob sha1 otherwise; a checkpoint's conversion in
 * quals-import/, both variants, by the sha256 recorded when it was written). Damaged files can be
 * removed (with their manifest entries), so the next run downloads them again, or converts the
 * checkpoint again for a damaged conversion file (hub.ts: a recorded file gone means not ready).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ModelError } from '../scoring/errors';
import { hashFile } from './file-hash';
import { MANIFEST_FILE, readJson, writeJsonAtomic, type Manifest } from './hub-job';

export interface VerifyReport {
  folder: string;
  checked: number;
  /** Local paths with why each is damaged. */
  damaged: { file: string; why: string }[];
  /** Files recorded without a checksum (cannot be verified). */
  unverifiable: string[];
  removed: boolean;
}

export async function verifyHubFolder(folder: string, options: { remove?: boolean; signal?: AbortSignal } = {}): Promise<VerifyReport> {
  const manifestPath = path.join(folder, MANIFEST_FILE);
  const manifest = readJson<Manifest>(manifestPath);
  if (!manifest || typeof manifest.files !== 'object' || manifest.files === null) {
    throw new ModelError('not-found', `${folder} has no readable download manifest (${MANIFEST_FILE}); it is not a complete hub cache folder.`);
  }
  const report: VerifyReport = { folder, checked: 0, damaged: [], unverifiable: [], removed: false };
  for (const [file, record] of Object.entries(manifest.files)) {
    const p = path.join(folder, file);
    report.checked++;
    let size: number | null = null;
    try {
      const st = fs.statSync(p);
      size = st.isFile() ? st.size : null;
    } catch {
      size = null;
    }
    if (size === null) {
      report.damaged.push({ file, why: 'missing' });
      continue;
    }
    if (size !== record.size) {
      report.damaged.push({ file, why: `${size} bytes instead of ${record.size}` });
      continue;
    }
    const etag = record.etag?.toLowerCase() ?? null;
    const kind = etag && /^[0-9a-f]{64}$/.test(etag) ? 'sha256' : etag && /^[0-9a-f]{40}$/.test(etag) ? 'git-sha1' : null;
    if (!kind || !etag) {
      report.unverifiable.push(file);
      continue;
    }
    const actual = await hashFile(p, kind, size, options.signal);
    if (actual !== etag) report.damaged.push({ file, why: `${kind} ${actual.slice(0, 12)}... instead of ${etag.slice(0, 12)}...` });
  }
  if (options.remove && (report.damaged.length || report.unverifiable.length)) {
    const bad = [...report.damaged.map((d) => d.file), ...report.unverifiable];
    const next: Manifest = { ...manifest, files: { ...manifest.files } };
    for (const file of bad) {
      delete next.files[file];
      fs.rmSync(path.join(folder, file), { force: true });
    }
    writeJsonAtomic(manifestPath, next);
    report.removed = true;
  }
  return report;
}
