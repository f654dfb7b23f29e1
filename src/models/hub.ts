/**
 * Makes a Hugging Face hub model ready in a cache folder, once: an ONNX export is downloaded as
 * it is; a Hugging Face checkpoint (BART, T5) is downloaded and imported into the ONNX layout.
 *
 * Cache layout, per repo revision: `{cacheDir}/{org}--{name}/{revision}/`
 *
 *     .quals-download.json    the manifest, written last: which files are there and verified,
 *                             and the repo's layout (hub-layout.ts)
 *     onnx/..., *.json        an ONNX repo's files (the folder the loader loads)
 *     checkpoint/...          a checkpoint repo's JSON files and weights, as downloaded
 *     quals-import/           their conversion (the folder the loader loads), renamed into
 *                             place only when complete; fp32, plus the int8 variant once it
 *                             is asked for (added by converting again from checkpoint/, no
 *                             download). The manifest records its files with their sha256.
 *
 * Work in progress lives in a sibling staging folder `.{revision}.incomplete/` (hub-job.ts);
 * files move into the cache folder only when every file needed is verified, so nothing
 * half-written is ever loaded. A complete cache costs no network request at all.
 *
 * What a repo holds comes from the hub's listing API (hub-listing.ts). Without one (a mirror,
 * an old hub), the files are probed as before: the ONNX export first, then the checkpoint weights.
 *
 * Two processes asking for the same repo revision at once take turns through a lock file next to
 * the cache folder (download-lock.ts): the second waits, then finds the files already there.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DownloadProgress, ModelFormatName, ModelVariant } from '../scoring/engine-api';
import { ModelError } from '../scoring/errors';
import { type WeightFormat, shardFiles, weightFileCandidates } from './checkpoint/open';
import { CheckpointError } from './checkpoint/checkpoint';
import { type HeldLock, withDownloadLock } from './download-lock';
import { hashFile } from './file-hash';
import { type ImportProgress, type ImportVariant, importCheckpoint } from './import';
import { detectFamily, detectFormat, formatUnknownError } from './import-detect';
import { type Manifest, Job, MANIFEST_FILE, NEEDS, RepoFileMissingError, isResolved, offlineError, readJson, writeJsonAtomic } from './hub-job';
import { TransferError } from './hub-http';
import {
  CHECKPOINT_DIR,
  CHECKPOINT_SIDE_FILES,
  IMPORT_DIR,
  type RepoLayout,
  checkpointSpec,
  describeFiles,
  onnxFileSpecs,
  onnxLayoutIn,
  onnxVariantsIn,
  weightProbeOrder,
} from './hub-layout';
import { type RepoListing, isSafeRepoPath, listHubRepo } from './hub-listing';
import { isHubIdSyntax, MODEL_VARIANTS, type QualsJson, onnxFiles, stepGraphsCurrent, variantFiles } from './model-files';

export { MANIFEST_FILE } from './hub-job';
export { CHECKPOINT_DIR, IMPORT_DIR } from './hub-layout';

export interface HubDownloadOptions {
  /** Root of the model cache (the loader's default: ~/.cache/quals/models). */
  cacheDir: string;
  /** Default: $HF_ENDPOINT, else https://huggingface.co. */
  hubUrl?: string;
  /** Branch, tag or commit (default `main`). Pin a commit for reproducible results. */
  revision?: string;
  variant?: ModelVariant;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Bearer token for private or gated repos (default $HF_TOKEN); sent to the hub only, never to its CDN. */
  token?: string;
  /** Extra attempts per file after a dropped connection or a server error, each resuming (default 3). */
  retries?: number;
  /** Delay before the first retry, doubled each time (default 1000 ms). */
  retryDelayMs?: number;
  /** Give up on a connection that sends nothing for this long (default 60 s). */
  timeoutMs?: number;
  /** Checkpoint repos: how the converted model writes QA pairs, when the repo does not tell (import-detect.ts). */
  format?: ModelFormatName;
  /** Checkpoint repos with both kinds of weights: which to download (default safetensors). */
  prefer?: WeightFormat;
  /** Checkpoint repos: convert again even when the cache already has a conversion. */
  reimport?: boolean;
  /** Checkpoint repos: progress of the conversion after the download. */
  onImportProgress?: (p: ImportProgress) => void;
}

/** A checkpoint downloaded into the cache (for `quals model import ID --out DIR`). */
export interface HubCheckpoint {
  /** The folder with config.json, the tokenizer files and the weights. */
  dir: string;
  id: string;
  revision: string;
  commit: string | null;
  /** The weight files (an index first, then its shards), relative to `dir`. */
  weights: string[];
}

/** The folder a finished download of `id` at `revision` lives in. */
export function hubCacheFolder(cacheDir: string, id: string, revision = 'main'): string {
  return path.join(path.resolve(cacheDir), id.replace('/', '--'), revision.replace(/\//g, '--'));
}

/** The folder a checkpoint repo's conversion lives in. */
export function hubImportFolder(cacheDir: string, id: string, revision = 'main'): string {
  return path.join(hubCacheFolder(cacheDir, id, revision), IMPORT_DIR);
}

/**
 * Makes sure hub repo `id` is ready to load and returns the folder: the download folder for an
 * ONNX repo (the variant's files), the conversion for a checkpoint repo (fp32, and int8 when
 * asked for: an fp32 conversion in the cache gains the int8 files without a download).
 * @throws ModelError `not-found` (repo, revision or required file missing; a repo with neither an
 *   ONNX export nor a checkpoint), `offline` (host unreachable), `download` (HTTP failure,
 *   checksum mismatch), `format`/`invalid-file` (a checkpoint that cannot be imported);
 *   CancelledError when `signal` fires.
 */
export async function downloadHubModel(id: string, options: HubDownloadOptions): Promise<string> {
  const repo = new CachedRepo(id, options);
  // Another process may have finished while this one waited for the lock: look again inside it.
  return repo.readyModel() ?? repo.locked(async (lock) => repo.readyModel() ?? repo.prepareModel(lock));
}

/**
 * Downloads only a checkpoint repo's JSON files and weights (into `checkpoint/` of the cache
 * folder) and returns where they are; for importing them elsewhere. Repos with no checkpoint
 * (an ONNX export only) are a `not-found` ModelError.
 */
export async function downloadHubCheckpoint(id: string, options: HubDownloadOptions): Promise<HubCheckpoint> {
  const repo = new CachedRepo(id, options);
  return repo.readyCheckpoint() ?? repo.locked(async () => repo.readyCheckpoint() ?? repo.fetchCheckpointOnly());
}

/** One repo revision in the cache. */
class CachedRepo {
  readonly revision: string;
  readonly variant: ModelVariant;
  readonly hubUrl: string;
  readonly folder: string;
  private readonly staging: string;
  private readonly where: string;

  constructor(
    readonly id: string,
    private readonly options: HubDownloadOptions,
  ) {
    this.revision = options.revision ?? 'main';
    this.variant = options.variant ?? 'fp32';
    if (!isHubIdSyntax(id)) throw new ModelError('not-found', `"${id}" is not a Hugging Face hub id (expected org/name) nor an existing folder.`);
    const revision = this.revision;
    if (!revision || revision.split('/').some((p) => p === '' || p === '.' || p === '..') || revision.includes('\\')) {
      throw new ModelError('not-found', `"${revision}" is not a valid hub revision; use a branch, tag or commit id.`);
    }
    if (!MODEL_VARIANTS.includes(this.variant)) throw new ModelError('format', `Unknown model variant "${String(this.variant)}"; use one of ${MODEL_VARIANTS.join(', ')}.`);
    this.hubUrl = (options.hubUrl ?? (process.env.HF_ENDPOINT || 'https://huggingface.co')).replace(/\/+$/, '');
    this.folder = hubCacheFolder(options.cacheDir, id, revision);
    this.staging = path.join(path.dirname(this.folder), `.${path.basename(this.folder)}.incomplete`);
    this.where = `Hub repo ${id} (revision ${revision})`;
  }

  private manifest(): Manifest | null {
    return readJson<Manifest>(path.join(this.folder, MANIFEST_FILE));
  }

  private get importFolder(): string {
    return path.join(this.folder, IMPORT_DIR);
  }

  locked<T>(fn: (lock: HeldLock) => Promise<T>): Promise<T> {
    fs.mkdirSync(path.dirname(this.folder), { recursive: true });
    const lockPath = path.join(path.dirname(this.folder), `.${path.basename(this.folder)}.lock`);
    return withDownloadLock(lockPath, fn, {
      signal: this.options.signal,
      onWait: (owner) => this.options.log?.(`Waiting for another QUALS process (pid ${owner.pid} on ${owner.host}) that is downloading ${this.id} (${this.revision}) into ${this.folder}`),
    });
  }

  /** The loadable folder when the cache already has everything (no network), else null. */
  readyModel(): string | null {
    const m = this.manifest();
    if (!m) return null;
    const layout = m.layout ?? 'onnx';
    if (layout === 'checkpoint') {
      this.checkCheckpointVariant();
      if (this.options.reimport || !this.checkpointComplete(m)) return null;
      return this.importReady(m) ? this.importFolder : null;
    }
    return onnxFileSpecs(this.variant, layout).every((s) => isResolved(m, this.folder, s.local, s.optional)) ? this.folder : null;
  }

  readyCheckpoint(): HubCheckpoint | null {
    const m = this.manifest();
    return m && this.checkpointComplete(m) ? this.checkpointResult(m) : null;
  }

  private checkpointComplete(m: Manifest): boolean {
    const c = m.checkpoint;
    return Boolean(c && Array.isArray(c.files) && c.files.every((f) => isResolved(m, this.folder, f, isOptionalCheckpointFile(c, f))));
  }

  private checkpointResult(m: Manifest): HubCheckpoint {
    const strip = (f: string) => f.slice(CHECKPOINT_DIR.length + 1);
    return { dir: path.join(this.folder, CHECKPOINT_DIR), id: this.id, revision: this.revision, commit: m.commit ?? null, weights: (m.checkpoint?.weights ?? []).map(strip) };
  }

  /**
   * Whether the conversion serves the variant: its quals.json (and, for int8, the int8 record and
   * graphs) is there, and every file the manifest records for it still has its size. A
   * conversion the manifest does not record (an older cache) is trusted as before.
   */
  private importReady(m: Manifest): boolean {
    const quals = readJson<{ graphs?: { design?: unknown; stepGraphs?: number; variants?: Record<string, unknown> } }>(path.join(this.importFolder, 'quals.json'));
    if (!quals) return false;
    // A conversion by an older QUALS whose step graphs this engine no longer runs is converted again (no download).
    if (quals.graphs?.design === 'quals-step' && !stepGraphsCurrent(quals.graphs as QualsJson['graphs'])) return false;
    if (this.variant === 'int8') {
      const f = variantFiles('int8');
      if (!quals.graphs?.variants?.int8 || ![f.encoder, f.stepDecoder, f.crossKv].every((g) => isFile(path.join(this.importFolder, g)))) return false;
    }
    return !m.import || m.import.files.every((f) => isResolved(m, this.folder, f, false));
  }

  /** The variants the cached conversion holds (empty when there is none). */
  private importedVariants(): ImportVariant[] {
    const quals = readJson<{ graphs?: { variants?: Record<string, unknown> } }>(path.join(this.importFolder, 'quals.json'));
    if (!quals) return [];
    return quals.graphs?.variants?.int8 ? ['fp32', 'int8'] : ['fp32'];
  }

  private checkCheckpointVariant(): void {
    if (this.variant === 'fp32' || this.variant === 'int8') return;
    throw new ModelError(
      'format',
      `${this.where} holds a Hugging Face checkpoint, which QUALS converts to fp32 or int8 ONNX only; set the variant to fp32 or int8 (the ${this.variant} variant needs a repo with that ONNX export).`,
    );
  }

  /** An ONNX repo has no int8 files: QUALS writes that variant only when it converts a checkpoint. */
  private int8OnnxError(variants: readonly ModelVariant[]): ModelError {
    const { encoder } = variantFiles('int8');
    const has = variants.length > 0 ? ` (it has the ${variants.join(', ')} variant${variants.length > 1 ? 's' : ''})` : '';
    return new ModelError(
      'not-found',
      `${this.where} is an ONNX export without the int8 variant (${encoder})${has}; QUALS writes int8 files only when it converts a Hugging Face checkpoint. Set the variant (quals.modelVariant or --variant) to fp32, or choose the model's checkpoint repo, or convert one yourself with \`quals model import CHECKPOINT --out DIR --variant int8\` and set the model to DIR.`,
    );
  }

  private job(): Job {
    return new Job(this.id, this.revision, this.hubUrl, this.staging, this.options);
  }

  /** Under the lock: whatever is missing for a loadable folder. */
  async prepareModel(lock: HeldLock): Promise<string> {
    const manifest = this.manifest();
    const job = this.job();
    let layout: RepoLayout | undefined = manifest?.layout;
    let listing: RepoListing | null = null;
    let missingOnnx: string | null = null;
    if (!layout) {
      listing = await this.list(job);
      if (listing) layout = this.layoutFromListing(listing);
      else ({ layout, missingOnnx } = await this.probeOnnx(job));
    }
    if (layout === 'checkpoint') {
      this.checkCheckpointVariant();
      let m = manifest && this.checkpointComplete(manifest) ? manifest : await this.fetchCheckpoint(job, manifest, listing, 'checkpoint', missingOnnx);
      if (m.layout !== 'checkpoint') {
        // Downloaded earlier for an import elsewhere; now known to be what the loader gets.
        m = job.promote(this.folder, [], m, { layout: 'checkpoint', ...(listing?.commit ? { commit: listing.commit } : {}) });
      }
      await this.importIntoCache(m, lock);
      return this.importFolder;
    }
    this.options.log?.(`Downloading ${this.id} (${this.revision}, ${this.variant}) from ${this.hubUrl} into ${this.folder}`);
    const specs = onnxFileSpecs(this.variant, layout).filter((s) => !isResolved(manifest, this.folder, s.local, s.optional));
    if (listing) {
      const have = new Set(listing.files);
      job.markAbsent(specs.filter((s) => s.optional && !have.has(s.remote)).map((s) => s.local));
    }
    try {
      await job.fetch(specs, 'onnx');
    } catch (err) {
      // A cached ONNX repo asked for int8 later: a missing int8 file is a variant question, not damage.
      if (this.variant === 'int8' && err instanceof RepoFileMissingError && !onnxFileSpecs('fp32', layout).some((s) => s.remote === err.file)) {
        throw this.int8OnnxError(manifest && onnxFileSpecs('fp32', layout).every((s) => isResolved(manifest, this.folder, s.local, s.optional)) ? ['fp32'] : []);
      }
      throw err;
    }
    job.promote(this.folder, specs.map((s) => s.local), manifest, { layout, ...(listing?.commit ? { commit: listing.commit } : {}) });
    job.discard();
    this.options.log?.(`Downloaded ${this.id} (${this.revision}) into ${this.folder}`);
    return this.folder;
  }

  /** Under the lock: the checkpoint's files only, whatever else the repo holds. */
  async fetchCheckpointOnly(): Promise<HubCheckpoint> {
    const manifest = this.manifest();
    const job = this.job();
    const listing = manifest?.checkpoint ? null : await this.list(job);
    if (listing && weightFileCandidates(listing.files, this.options.prefer).length === 0) {
      const onnx = onnxVariantsIn(new Set(listing.files)).length > 0;
      throw new ModelError(
        'not-found',
        `${this.where} has no Hugging Face checkpoint (model.safetensors, pytorch_model.bin or their sharded index) to import; it has ${describeFiles(listing.files)}.${onnx ? ` It holds an ONNX export: use it directly (--model ${this.id}).` : ''}`,
      );
    }
    // Only a listing decides the layout the loader gets: an ONNX export in the same repo stays its choice.
    const layout: RepoLayout | undefined = manifest?.layout ?? (listing ? this.layoutFromListing(listing) : undefined);
    return this.checkpointResult(await this.fetchCheckpoint(job, manifest, listing, layout, null));
  }

  private async list(job: Job): Promise<RepoListing | null> {
    try {
      return await listHubRepo(this.hubUrl, this.id, this.revision, job.httpContext, this.options.log);
    } catch (err) {
      if (err instanceof TransferError) throw offlineError(this.hubUrl, this.id, err);
      throw err;
    }
  }

  /** The layout for the loader: an ONNX export of the variant if there is one, else a checkpoint. */
  private layoutFromListing(listing: RepoListing): RepoLayout {
    const files = new Set(listing.files);
    const onnx = onnxLayoutIn(files, this.variant);
    if (onnx) return onnx;
    const variants = onnxVariantsIn(files);
    if (weightFileCandidates(listing.files, this.options.prefer).length > 0) {
      // The checkpoint converts to fp32 and int8; other variants need the repo's own export.
      if (this.variant !== 'fp32' && this.variant !== 'int8' && variants.length > 0) {
        throw new ModelError('not-found', `${this.where} has no ${this.variant} ONNX export (it has the ${variants.join(', ')} variant${variants.length > 1 ? 's' : ''}, and a checkpoint that QUALS converts to fp32 or int8); set the variant to ${variants.includes('fp32') ? 'fp32' : variants.join(' or ')}.`);
      }
      return 'checkpoint';
    }
    if (this.variant === 'int8' && variants.length > 0) throw this.int8OnnxError(variants);
    const { encoder, decoder } = onnxFiles(this.variant);
    const hasVariants = variants.length > 0 ? ` It has the ${variants.join(', ')} ONNX variant${variants.length > 1 ? 's' : ''}: set the variant to ${variants.length > 1 ? 'one of those' : 'that'}.` : '';
    throw new ModelError(
      'not-found',
      `${this.where} holds neither an ONNX export (${encoder} and ${decoder}) nor a Hugging Face checkpoint (model.safetensors, pytorch_model.bin or their sharded index); it has ${describeFiles(listing.files)}.${hasVariants} ${capitalise(NEEDS)}`,
    );
  }

  /**
   * Without a listing: fetches the variant's ONNX files in the loader's order (as downloads always
   * did, so an interrupted run resumes the same way), the two graphs as optional. Both there: the
   * ONNX layout; either missing: a checkpoint is looked for instead.
   */
  private async probeOnnx(job: Job): Promise<{ layout: RepoLayout; missingOnnx: string | null }> {
    const specs = onnxFileSpecs(this.variant, 'onnx');
    for (const spec of specs.filter((s) => !s.optional)) {
      const graph = spec.local.endsWith('.onnx');
      await job.fetch([{ ...spec, optional: graph }], 'onnx');
      if (graph && job.has(spec.local) === false) {
        this.options.log?.(`${this.where} has no ${spec.remote}; looking for a Hugging Face checkpoint instead`);
        return { layout: 'checkpoint', missingOnnx: spec.remote };
      }
    }
    return { layout: 'onnx', missingOnnx: null };
  }

  /**
   * Downloads the checkpoint: the weights are chosen first, then the JSON files are fetched and
   * checked (architecture, tokenizer, format) before any weights are, then the weights, an index
   * before its shards. A checkpoint the manifest already knows is completed file by file. Returns
   * the new manifest.
   */
  private async fetchCheckpoint(job: Job, manifest: Manifest | null, listing: RepoListing | null, layout: RepoLayout | undefined, missingOnnx: string | null): Promise<Manifest> {
    const dir = path.join(this.folder, CHECKPOINT_DIR);
    const known = manifest?.checkpoint;
    if (known) {
      const specs = known.files
        .filter((f) => !isResolved(manifest, this.folder, f, isOptionalCheckpointFile(known, f)))
        .map((f) => checkpointSpec(f.slice(CHECKPOINT_DIR.length + 1), isOptionalCheckpointFile(known, f)));
      this.options.log?.(`Completing the checkpoint of ${this.id} (${this.revision}) in ${dir}`);
      await job.fetch(specs, 'checkpoint');
      const next = job.promote(this.folder, specs.map((s) => s.local), manifest, {});
      job.discard();
      return next;
    }

    const have = listing ? new Set(listing.files) : null;
    let chosen: string | undefined;
    if (listing) chosen = weightFileCandidates(listing.files, this.options.prefer)[0];
    else {
      for (const remote of weightProbeOrder(this.options.prefer)) {
        if (await job.exists(remote, 'checkpoint')) {
          chosen = remote;
          break;
        }
      }
    }
    if (!chosen) {
      const onnx = missingOnnx ? `no ${missingOnnx} and ` : '';
      throw new ModelError('not-found', `${this.where} has ${onnx}no Hugging Face checkpoint (model.safetensors, pytorch_model.bin or their sharded index); ${NEEDS}`);
    }
    if (have && !have.has('config.json')) throw new ModelError('not-found', `${this.where} has no config.json, so its checkpoint cannot be imported; it has ${describeFiles(listing!.files)}.`);

    this.options.log?.(`Downloading the checkpoint of ${this.id} (${this.revision}, ${chosen}) from ${this.hubUrl} into ${dir}`);
    const side = CHECKPOINT_SIDE_FILES.map((f) => checkpointSpec(f, f !== 'config.json'));
    if (have) job.markAbsent(side.filter((s) => !have.has(s.remote)).map((s) => s.local));
    await job.fetch(side, 'checkpoint');
    this.checkImportable(job, have);

    const weightSpecs = [checkpointSpec(chosen, false)];
    await job.fetch(weightSpecs, 'checkpoint');
    if (chosen.endsWith('.index.json')) {
      let shards: string[];
      try {
        shards = shardFiles(fs.readFileSync(job.stagedPath(weightSpecs[0]!.local), 'utf8'), `${chosen} of ${this.where}`);
      } catch (err) {
        if (err instanceof CheckpointError) throw new ModelError('invalid-file', err.message, { cause: err });
        throw err;
      }
      const unsafe = shards.find((s) => !isSafeRepoPath(s));
      if (unsafe) throw new ModelError('invalid-file', `${chosen} of ${this.where} names the shard ${JSON.stringify(unsafe)}, which is not a file of the repo; it was not downloaded.`);
      const shardSpecs = shards.map((s) => checkpointSpec(s, false));
      await job.fetch(shardSpecs, 'checkpoint');
      weightSpecs.push(...shardSpecs);
    }
    const files = [...side, ...weightSpecs].map((s) => s.local);
    const next = job.promote(this.folder, files, manifest, {
      ...(layout ? { layout } : {}),
      ...(listing?.commit ? { commit: listing.commit } : {}),
      checkpoint: { files, weights: weightSpecs.map((s) => s.local) },
    });
    job.discard();
    this.options.log?.(`Downloaded the checkpoint of ${this.id} (${this.revision}) into ${dir}`);
    return next;
  }

  /** Fails before the weights are downloaded when the import would fail on the JSON files. */
  private checkImportable(job: Job, have: ReadonlySet<string> | null): void {
    const staged = (f: string) => job.stagedPath(`${CHECKPOINT_DIR}/${f}`);
    const config = readJson<Record<string, unknown>>(staged('config.json'));
    if (!config) throw new ModelError('invalid-file', `config.json of ${this.where} is not a JSON object; the repo is damaged or not a model.`);
    const family = detectFamily(config, `config.json of ${this.where}`).family;
    if (job.has(`${CHECKPOINT_DIR}/tokenizer.json`) !== true) {
      const slow = ['spiece.model', 'sentencepiece.bpe.model', 'vocab.json', 'merges.txt', 'vocab.txt'].filter((f) => have?.has(f));
      throw new ModelError(
        'missing-file',
        `${this.where} has no tokenizer.json${slow.length ? ` (only ${slow.join(' and ')})` : ''}, and QUALS reads the fast-tokenizer file tokenizer.json. Download the repo, create tokenizer.json with transformers (\`AutoTokenizer.from_pretrained(DIR).save_pretrained(DIR)\`), then run \`quals model import DIR\`.`,
      );
    }
    if (this.options.format) return;
    const tokenizerJson = readJson<Record<string, unknown>>(staged('tokenizer.json')) ?? {};
    const qualsJson = readJson<{ format?: unknown }>(staged('quals.json'));
    const qualsJsonFormat = qualsJson?.format === 'qagen' || qualsJson?.format === 'lmqg' ? qualsJson.format : undefined;
    const found = detectFormat({ family, config, tokenizerJson, hasTrainerConfig: job.has(`${CHECKPOINT_DIR}/trainer_config.json`) === true, sourceId: this.id, qualsJsonFormat });
    if (!found) throw formatUnknownError(this.where.replace(/^Hub repo/, 'hub repo'));
  }

  /**
   * Converts the downloaded checkpoint into quals-import/, replacing an earlier conversion: the
   * import writes a staging folder and renames it into place, so the loader sees the old
   * conversion or the new one, never half of one. A variant the old one had is kept; adding int8
   * to an fp32 conversion converts again from checkpoint/ (no download). The manifest drops its
   * record of the old conversion first and records the new one (with checksums) last.
   */
  private async importIntoCache(m: Manifest, lock: HeldLock): Promise<void> {
    // Under the lock, a staging folder of an earlier import belongs to a process that died.
    for (const name of fs.readdirSync(this.folder)) {
      if (name.startsWith(`.${IMPORT_DIR}.importing-`)) fs.rmSync(path.join(this.folder, name), { recursive: true, force: true });
    }
    const had = this.importedVariants();
    const variant: ImportVariant = this.variant === 'int8' || had.includes('int8') ? 'int8' : 'fp32';
    const manifestPath = path.join(this.folder, MANIFEST_FILE);
    let next: Manifest = m;
    if (m.import) {
      const { import: old, ...rest } = m;
      next = { ...rest, files: Object.fromEntries(Object.entries(m.files).filter(([f]) => !old.files.includes(f))) };
      writeJsonAtomic(manifestPath, next);
    }
    const src = path.join(this.folder, CHECKPOINT_DIR);
    if (had.length > 0 && !had.includes(variant) && !this.options.reimport) {
      this.options.log?.(`Adding the ${variant} variant to the conversion of ${this.id} (${this.revision}) in ${this.importFolder}: converting again from the downloaded checkpoint (no download)`);
    } else if (had.length > 0 && !this.options.reimport) {
      this.options.log?.(`Converting ${this.id} (${this.revision}) again in ${this.importFolder}: its quals-step graphs were written by another version of QUALS (from the downloaded checkpoint, no download)`);
    } else {
      this.options.log?.(`Converting ${this.id} (${this.revision}) to ONNX${variant === 'int8' ? ' (fp32 and int8)' : ''} in ${this.importFolder} (once)`);
    }
    const report = await importCheckpoint(src, this.importFolder, {
      variant,
      format: this.options.format,
      prefer: m.checkpoint?.weights.some((w) => w.includes('pytorch_model')) ? 'bin' : 'safetensors',
      overwrite: true,
      source: this.id,
      provenance: { revision: this.revision, ...(m.commit ? { commit: m.commit } : {}) },
      signal: this.options.signal,
      log: this.options.log,
      onProgress: (p) => {
        lock.keepAlive(); // the graph writes are synchronous: the lock's timer cannot fire meanwhile
        this.options.onImportProgress?.(p);
      },
    });
    this.options.log?.(`Converted ${this.id}: ${report.architecture}, format ${report.format} (${report.formatReason})`);
    const files: string[] = [];
    const records: Manifest['files'] = {};
    for (const f of report.files) {
      const local = `${IMPORT_DIR}/${f}`;
      const size = fs.statSync(path.join(this.folder, local)).size;
      lock.keepAlive();
      records[local] = { size, etag: await hashFile(path.join(this.folder, local), 'sha256', size, this.options.signal) };
      files.push(local);
    }
    writeJsonAtomic(manifestPath, { ...next, files: { ...next.files, ...records }, import: { files } });
  }
}

/** The weights and config.json must be there; the other JSON files may be absent from the repo. */
function isOptionalCheckpointFile(c: NonNullable<Manifest['checkpoint']>, local: string): boolean {
  return !c.weights.includes(local) && local !== `${CHECKPOINT_DIR}/config.json`;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
