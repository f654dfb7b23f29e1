/**
 * `quals model import SOURCE`: converts a Hugging Face checkpoint (a folder, or a hub id that is
 * downloaded first) into a model folder QUALS loads. `quals model check` lives in ./model-check.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { hubCacheFolder, hubImportFolder, downloadHubCheckpoint, downloadHubModel } from '../../models/hub';
import { verifyHubFolder } from '../../models/hub-verify';
import { type ImportReport, importCheckpoint } from '../../models/import';
import { IMPORT_VARIANTS, type ImportVariant } from '../../models/import';
import { isHubId, readModelFolder } from '../../models/model-files';
import { TargetFolderError } from '../../models/staged-folder';
import type { ModelFormatName } from '../../scoring/engine-api';
import { CancelledError, ModelError } from '../../scoring/errors';
import { defaultCacheDir } from '../../scoring/model/loader';
import { EXIT, describeError } from '../exit-codes';
import { ModelProgress } from '../model-progress';
import { parseCommand, usageError } from '../parse-command';
import { interruptSignal } from './batch-shared';

const HELP = `Usage: quals model <command> ...

  import SOURCE [--out DIR]   convert a Hugging Face checkpoint (folder or hub id) to a model folder
  check DIR|HUB_ID            load a model and check that its decoding paths agree
  verify HUB_ID|DIR           check a hub download in the cache against its checksums
                              (--remove-damaged: delete bad files so the next run fetches them)

Run \`quals model <command> --help\` for a command's options.`;

const IMPORT_HELP = `Usage: quals model import SOURCE [--out DIR] [options]

Converts a Hugging Face checkpoint of a BART, mBART, T5, Flan-T5 or mT5 model into a model folder
in the ONNX layout QUALS loads (onnx/encoder_model.onnx, onnx/decoder_model_merged.onnx, the JSON
and tokenizer files, quals.json). SOURCE is a folder (config.json, tokenizer.json and
model.safetensors or pytorch_model.bin, maybe sharded) or a hub id (org/name), of which only those
files are downloaded. Nothing in the checkpoint is executed; the output appears whole or not at all.

  --out DIR              the model folder to write (needed for a folder SOURCE; for a hub id the
                         default is the model cache, where --model org/name finds it)
  --format F             qagen | lmqg: how the model writes QA pairs (default: detected from the
                         checkpoint; the import asks for it when it cannot tell)
  --prefer W             safetensors | bin: the weights to read when there are both (default safetensors)
  --variant V            fp32 | int8: int8 also writes onnx/*_int8.onnx, the weights quantized to int8
                         (about 2x faster on CPU; load it with --variant int8 or the quals.modelVariant
                         setting). The fp32 graphs are always written. A hub id without --out gets them
                         in the model cache (added to an fp32 conversion there without a download).
  --overwrite            replace an existing --out folder (hub id without --out: convert again)
  --revision REV         hub branch, tag or commit (default main)
  --cache-dir DIR        where hub downloads are kept (default ~/.cache/quals/models)
  --quiet                no progress output

The last line of the output is the model folder. Exit codes: 0 ok, 1 usage, 2 output folder
exists (or is inside SOURCE), 3 model problem, 130 interrupted (nothing is left behind).`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'import') return runImport(rest);
  if (sub === 'check') return (await import('./model-check')).runModelCheck(rest);
  if (sub === 'verify') return runVerify(rest);
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(`${HELP}\n`);
    return sub ? EXIT.ok : EXIT.usage;
  }
  return usageError('model', `unknown command "${sub}"; use import, check or verify.`);
}

const VERIFY_HELP = `Usage: quals model verify HUB_ID|DIR [--revision REV] [--cache-dir DIR] [--remove-damaged]

Checks every file of a hub download in the model cache (or the cache folder DIR) against the size
and checksum the hub announced when it was downloaded.

  --remove-damaged       delete damaged files (and their manifest entries): the next run that
                         uses the model downloads just those again
  --revision REV         hub branch, tag or commit (default main)
  --cache-dir DIR        where hub downloads are kept (default ~/.cache/quals/models)

Exit codes: 0 every file intact, 1 usage, 2 damaged files found (or no such download).`;

async function runVerify(args: string[]): Promise<number> {
  const parsed = parseCommand('model verify', args, { revision: { type: 'string' }, 'cache-dir': { type: 'string' }, 'remove-damaged': { type: 'boolean' } }, VERIFY_HELP, true);
  if ('exit' in parsed) return parsed.exit;
  const { values, positionals } = parsed;
  const [target, ...extra] = positionals;
  if (!target || extra.length) return usageError('model verify', 'give one hub id or cache folder.');
  const cacheDir = (values['cache-dir'] as string | undefined) ?? defaultCacheDir();
  const folder = fs.existsSync(target) ? target : isHubId(target) ? hubCacheFolder(cacheDir, target, (values.revision as string | undefined) ?? 'main') : null;
  if (!folder) return usageError('model verify', `${target} is neither a folder nor a hub id (org/name).`);
  try {
    const r = await verifyHubFolder(folder, { remove: values['remove-damaged'] === true });
    for (const d of r.damaged) process.stdout.write(`damaged: ${d.file} (${d.why})${r.removed ? ' - removed' : ''}\n`);
    for (const f of r.unverifiable) process.stdout.write(`unverifiable (no checksum recorded): ${f}${r.removed ? ' - removed' : ''}\n`);
    const bad = r.damaged.length + r.unverifiable.length;
    process.stdout.write(`${r.checked} files checked in ${r.folder}: ${bad ? `${bad} bad${r.removed ? '; the next run downloads (or converts) them again' : '; rerun with --remove-damaged to fetch them again'}` : 'all intact'}.\n`);
    return bad ? EXIT.badInput : EXIT.ok;
  } catch (e) {
    const { code, message } = describeError(e);
    process.stderr.write(`quals model verify: ${message}\n`);
    return e instanceof ModelError && e.code === 'not-found' ? EXIT.badInput : code;
  }
}

async function runImport(args: string[]): Promise<number> {
  const parsed = parseCommand(
    'model import',
    args,
    {
      out: { type: 'string' },
      format: { type: 'string' },
      prefer: { type: 'string' },
      variant: { type: 'string' },
      overwrite: { type: 'boolean' },
      revision: { type: 'string' },
      'cache-dir': { type: 'string' },
      quiet: { type: 'boolean' },
    },
    IMPORT_HELP,
    true,
  );
  if ('exit' in parsed) return parsed.exit;
  const { values, positionals } = parsed;
  const [source, ...extra] = positionals;
  if (!source || extra.length) return usageError('model import', 'give one checkpoint folder or hub id.');
  const format = values.format as string | undefined;
  if (format !== undefined && format !== 'qagen' && format !== 'lmqg') return usageError('model import', `--format must be qagen or lmqg (got "${format}").`);
  const prefer = values.prefer as string | undefined;
  if (prefer !== undefined && prefer !== 'safetensors' && prefer !== 'bin') return usageError('model import', `--prefer must be safetensors or bin (got "${prefer}").`);
  const variant = values.variant as string | undefined;
  if (variant !== undefined && !(IMPORT_VARIANTS as readonly string[]).includes(variant)) return usageError('model import', `--variant must be ${IMPORT_VARIANTS.join(' or ')} (got "${variant}").`);
  const out = typeof values.out === 'string' ? values.out : undefined;
  const isFolder = fs.existsSync(source);
  if (!isFolder && !isHubId(source)) return usageError('model import', `${source} is neither an existing folder nor a hub id (org/name).`);
  if (isFolder && !out) return usageError('model import', `--out DIR is needed for a folder: where the model goes (not inside ${source}).`);
  if (isFolder && values.revision !== undefined) return usageError('model import', '--revision is for hub ids only.');

  const importVariant = (variant ?? 'fp32') as ImportVariant;
  const progress = values.quiet ? null : new ModelProgress(process.stderr);
  const log = (line: string) => (progress ? progress.line(`quals: ${line}`) : undefined);
  const interrupt = interruptSignal('model import', 'stopping and cleaning up');
  const common = {
    format: format as ModelFormatName | undefined,
    prefer: prefer as 'safetensors' | 'bin' | undefined,
    signal: interrupt.signal,
    log,
  };
  try {
    let folder: string;
    let report: ImportReport | null = null;
    let converted = true;
    if (isFolder) {
      report = await importCheckpoint(source, out!, { ...common, variant: importVariant, overwrite: values.overwrite === true, onProgress: (p) => progress?.convert(p) });
      folder = report.outDir;
    } else {
      const hub = {
        ...common,
        cacheDir: (values['cache-dir'] as string | undefined) ?? defaultCacheDir(),
        revision: values.revision as string | undefined,
        onProgress: progress ? (p: Parameters<ModelProgress['download']>[0]) => progress.download(p) : undefined,
        onImportProgress: progress ? (p: Parameters<ModelProgress['convert']>[0]) => progress.convert(p) : undefined,
      };
      if (out) {
        const ckpt = await downloadHubCheckpoint(source, hub);
        report = await importCheckpoint(ckpt.dir, out, {
          ...common,
          variant: importVariant,
          overwrite: values.overwrite === true,
          source,
          provenance: { revision: ckpt.revision, ...(ckpt.commit ? { commit: ckpt.commit } : {}) },
          onProgress: hub.onImportProgress,
        });
        folder = report.outDir;
      } else {
        folder = await downloadHubModel(source, { ...hub, variant: importVariant, reimport: values.overwrite === true });
        converted = path.resolve(folder) === hubImportFolder(hub.cacheDir, source, hub.revision);
      }
    }
    progress?.finish();
    process.stdout.write(describeResult(source, folder, report, converted, isFolder || Boolean(out)));
    return EXIT.ok;
  } catch (e) {
    progress?.finish();
    if (e instanceof CancelledError) {
      process.stderr.write('quals model import: interrupted; nothing was written (a download resumes where it stopped).\n');
      return 130;
    }
    if (e instanceof TargetFolderError) {
      process.stderr.write(`quals model import: ${e.message}\n`);
      return EXIT.badInput;
    }
    const { code, message } = describeError(e);
    process.stderr.write(`quals model import: ${message}\n`);
    return code;
  } finally {
    interrupt.dispose();
  }
}

/** What was made and how to use it; the folder on the last line, for scripts. */
function describeResult(source: string, folder: string, report: ImportReport | null, converted: boolean, explicitOut: boolean): string {
  const lines: string[] = [];
  if (report) {
    lines.push(`Imported ${source}: ${report.architecture}, format ${report.format} (${report.formatReason}).`);
    lines.push(`Weights: ${report.weights.map((w) => `${w.file} (sha256 ${w.sha256.slice(0, 12)}...)`).join(', ')}; ${report.tensors} tensors.`);
    for (const note of report.notes) lines.push(note);
    if (report.files.some((f) => f.endsWith('_int8.onnx'))) lines.push('The int8 variant is written too: load it with --variant int8 (or the quals.modelVariant setting).');
  } else if (converted) {
    const q = readModelFolder(folder, 'fp32').qualsJson;
    const from = q?.importedFrom as { architecture?: unknown } | undefined;
    const what = [typeof from?.architecture === 'string' ? from.architecture : null, `format ${q?.format ?? 'unknown'}`, q?.graphs?.variants?.int8 ? 'fp32 and int8 (--variant int8)' : null].filter(Boolean).join(', ');
    lines.push(`${source} is converted in the model cache (${what}).`);
  } else {
    lines.push(`${source} is already an ONNX export; it is downloaded in the model cache.`);
  }
  lines.push(explicitOut ? `Use it with --model ${JSON.stringify(folder)} (or the quals.model setting).` : `Use it with --model ${source} (or the quals.model setting); no download next time.`);
  lines.push(folder);
  return `${lines.join('\n')}\n`;
}

