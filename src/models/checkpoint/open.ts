/**
 * Finds a model folder's weights and opens them as one Checkpoint: model.safetensors, its
 * sharded form (model.safetensors.index.json + shards), pytorch_model.bin, or its sharded form,
 * in that order unless the caller prefers .bin. Shards are opened on first use and stay open
 * until close().
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Checkpoint, CheckpointError, type TensorInfo } from './checkpoint';
import { openSafetensors } from './safetensors';
import { openTorchCheckpoint } from './torch-zip';

export type WeightFormat = 'safetensors' | 'bin';

interface Form {
  file: string;
  sharded: boolean;
  open: (file: string) => Checkpoint;
}

const FORMS: Record<WeightFormat, Form[]> = {
  safetensors: [
    { file: 'model.safetensors', sharded: false, open: openSafetensors },
    { file: 'model.safetensors.index.json', sharded: true, open: openSafetensors },
  ],
  bin: [
    { file: 'pytorch_model.bin', sharded: false, open: openTorchCheckpoint },
    { file: 'pytorch_model.bin.index.json', sharded: true, open: openTorchCheckpoint },
  ],
};

/** Weight files QUALS cannot read, named in the "no weights" message so the user knows why. */
const UNSUPPORTED: Record<string, string> = {
  'tf_model.h5': 'TensorFlow',
  'tf_model.h5.index.json': 'TensorFlow, sharded',
  'flax_model.msgpack': 'Flax',
  'flax_model.msgpack.index.json': 'Flax, sharded',
  'model.ckpt.index': 'TensorFlow 1',
  'rust_model.ot': 'rust-bert',
};

const order = (prefer: WeightFormat = 'safetensors'): Form[] =>
  prefer === 'bin' ? [...FORMS.bin, ...FORMS.safetensors] : [...FORMS.safetensors, ...FORMS.bin];

/**
 * Which weight file to download from a repo, given its file list (paths relative to the repo
 * root): the first of model.safetensors, model.safetensors.index.json, pytorch_model.bin,
 * pytorch_model.bin.index.json that the repo has, as a one-element list ([] if none). For an
 * index, download it and pass its text to shardFiles() to learn the shards to fetch next.
 */
export function weightFileCandidates(repoFileList: readonly string[], prefer?: WeightFormat): string[] {
  const have = new Set(repoFileList);
  const form = order(prefer).find((f) => have.has(f.file));
  return form ? [form.file] : [];
}

/** The shard files a sharded checkpoint's index names, each once, in order; refuses names that leave the folder. */
export function shardFiles(indexJson: string, source = 'the index'): string[] {
  return [...new Set(readIndex(indexJson, source).values())];
}

/** The files (relative to dir) that the weights openCheckpoint would open need: one file, or the index and its shards. */
export function checkpointFiles(dir: string, prefer?: WeightFormat): string[] {
  const form = choose(dir, prefer);
  if (!form.sharded) return [form.file];
  const index = path.join(dir, form.file);
  return [form.file, ...shardFiles(fs.readFileSync(index, 'utf8'), index)];
}

export function openCheckpoint(dir: string, prefer?: WeightFormat): Checkpoint {
  const form = choose(dir, prefer);
  const file = path.join(dir, form.file);
  return form.sharded ? openSharded(file, form.open) : form.open(file);
}

function choose(dir: string, prefer?: WeightFormat): Form {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    throw new CheckpointError(`The model folder ${dir} cannot be read (does it exist?).`);
  }
  const have = new Set(names);
  const form = order(prefer).find((f) => have.has(f.file));
  if (form) return form;
  const looked = order(prefer).map((f) => f.file).join(', ');
  const other = names.filter((n) => n in UNSUPPORTED).map((n) => `${n} (${UNSUPPORTED[n]})`);
  const note = other.length ? ` It has ${other.join(', ')}, which QUALS cannot read; use a repo or revision with PyTorch or safetensors weights.` : '';
  return fail(`No model weights in ${dir}: looked for ${looked}.${note}`);
}

function fail(message: string): never {
  throw new CheckpointError(message);
}

/** weight_map: tensor name -> shard file name, checked to stay inside the folder. */
function readIndex(text: string, source: string): Map<string, string> {
  let index: unknown;
  try {
    index = JSON.parse(text);
  } catch {
    return fail(`${source} is not JSON; download it again.`);
  }
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) return fail(`${source} has no "weight_map"; download it again.`);
  const out = new Map<string, string>();
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || shard === '' || /[/\\]/.test(shard) || shard === '.' || shard.includes('..')) {
      return fail(`${source} maps ${name} to the shard ${JSON.stringify(shard)}, which is not a plain file name in the model folder; it was not opened.`);
    }
    out.set(name, shard);
  }
  if (out.size === 0) return fail(`${source} lists no tensors; download it again.`);
  return out;
}

/** One Checkpoint over every shard: each shard's header is read up front (to list the tensors), then it is reopened on first read. */
function openSharded(indexFile: string, openShard: (file: string) => Checkpoint): Checkpoint {
  const dir = path.dirname(indexFile);
  const weightMap = readIndex(fs.readFileSync(indexFile, 'utf8'), indexFile);
  const shards = [...new Set(weightMap.values())];
  const missing = shards.filter((s) => !fs.existsSync(path.join(dir, s)));
  if (missing.length) fail(`${indexFile} needs shards that are missing: ${missing.join(', ')}; download them again.`);

  const byShard = new Map<string, Map<string, TensorInfo>>();
  for (const shard of shards) {
    const ckpt = openShard(path.join(dir, shard));
    byShard.set(shard, new Map(ckpt.tensors));
    ckpt.close();
  }
  const tensors = new Map<string, TensorInfo>();
  for (const [name, shard] of weightMap) {
    const info = byShard.get(shard)!.get(name);
    if (!info) fail(`${indexFile} puts ${name} in ${shard}, which does not have it; download them again.`);
    tensors.set(name, info);
  }

  const open = new Map<string, Checkpoint>();
  let closed = false;
  return {
    description: `${indexFile} (${shards.length} shard${shards.length === 1 ? '' : 's'})`,
    tensors,
    read(name) {
      const shard = weightMap.get(name);
      if (!shard) throw new CheckpointError(`${indexFile} has no tensor ${name}.`);
      if (closed) throw new Error('checkpoint closed');
      let ckpt = open.get(shard);
      if (!ckpt) {
        ckpt = openShard(path.join(dir, shard));
        open.set(shard, ckpt);
      }
      return ckpt.read(name);
    },
    close() {
      closed = true;
      for (const ckpt of open.values()) ckpt.close();
      open.clear();
    },
  };
}
