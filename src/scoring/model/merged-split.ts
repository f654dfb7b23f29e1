/**
 * A foreign (Optimum) merged decoder, split at load time. Its `If` node's with-past branch copies
 * the pass-through cross-attention cache (Identity) into outputs at every one-token step, ~17% of
 * the decoder's time. The engine runs that branch as a graph of its own, whose outputs are only the
 * logits and the self-attention presents: Optimum's `decoder_with_past_model.onnx` when the folder
 * has it, else the branch cut out of the merged file into a cache folder (never the user's folder),
 * which each new split clears of the splits of merged files that are gone.
 * The merged graph itself keeps running the no-cache branch (multi-token passes over an empty
 * cache, see docs/quals-engine.md "Decoder graphs").
 */
import { createHash } from 'node:crypto';
import { existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { Reader } from '../../modelgen/onnx-weights';
import { writeFileAtomic } from '../../util/atomic-write';

/** Bumped when the split graph's layout changes, so older cached splits are not reused. */
const SPLIT_VERSION = 1;

type Field = ReturnType<Reader['fields']> extends Generator<infer F> ? F : never;

const utf8 = new TextEncoder();
const text = new TextDecoder();
const fieldsOf = (b: Uint8Array): Field[] => [...new Reader(b).fields()];
const str = (f: Field): string => text.decode(f.bytes);

/** An encoded message as pieces of other buffers (weights are never copied before the write). */
type Pieces = Uint8Array[];
const size = (p: Pieces): number => p.reduce((n, b) => n + b.length, 0);

function varint(v: number): Uint8Array {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** A length-delimited field around `body`. */
function field(no: number, body: Pieces): Pieces {
  return [varint(no * 8 + 2), varint(size(body)), ...body];
}
const strField = (no: number, s: string): Pieces => field(no, [utf8.encode(s)]);

interface Node {
  inputs: string[];
  outputs: string[];
  opType: string;
  /** Fields other than input/output, unchanged. */
  rest: Field[];
  /** Names that nested graphs (attributes) read from this scope or above. */
  nestedRefs: Set<string>;
}

function parseNode(b: Uint8Array): Node {
  const node: Node = { inputs: [], outputs: [], opType: '', rest: [], nestedRefs: new Set() };
  for (const f of fieldsOf(b)) {
    if (f.field === 1) node.inputs.push(str(f));
    else if (f.field === 2) node.outputs.push(str(f));
    else {
      if (f.field === 4) node.opType = str(f);
      if (f.field === 5 && f.bytes) for (const g of attributeGraphs(f.bytes)) for (const n of graphRefs(g)) node.nestedRefs.add(n);
      node.rest.push(f);
    }
  }
  return node;
}

function encodeNode(n: Node, rename: Map<string, string>): Pieces {
  const r = (s: string) => rename.get(s) ?? s;
  return field(1, [...n.inputs.flatMap((s) => strField(1, r(s))), ...n.outputs.flatMap((s) => strField(2, r(s))), ...n.rest.map((f) => f.raw)]);
}

/** AttributeProto.g (6) and .graphs (11). */
function attributeGraphs(attr: Uint8Array): Uint8Array[] {
  return fieldsOf(attr).filter((f) => (f.field === 6 || f.field === 11) && f.bytes).map((f) => f.bytes!);
}

const attrName = (attr: Uint8Array): string => str(fieldsOf(attr).find((f) => f.field === 1)!);

/** Names a graph reads that it does not define (its outer-scope references). */
function graphRefs(g: Uint8Array): Set<string> {
  const defined = new Set<string>();
  const read = new Set<string>();
  for (const f of fieldsOf(g)) {
    if (f.field === 1 && f.bytes) {
      const n = parseNode(f.bytes);
      n.outputs.forEach((o) => defined.add(o));
      n.inputs.forEach((i) => read.add(i));
      n.nestedRefs.forEach((i) => read.add(i));
    } else if ((f.field === 5 || f.field === 11) && f.bytes) defined.add(nameOf(f));
  }
  return new Set([...read].filter((n) => n !== '' && !defined.has(n)));
}

/** The name of a TensorProto (8), ValueInfoProto (1) or SparseTensorProto (values.name). */
function nameOf(f: Field): string {
  const fs = fieldsOf(f.bytes!);
  if (f.field === 5) return str(fs.find((x) => x.field === 8)!);
  if (f.field === 15) return nameOf({ ...fs.find((x) => x.field === 1)!, field: 5 });
  return str(fs.find((x) => x.field === 1)!);
}

/** The external-data files (TensorProto.external_data "location") a tensor reads, relative to its model. */
function externalLocation(f: Field): string | null {
  for (const x of fieldsOf(f.bytes!)) {
    if (x.field !== 13) continue;
    const entry = fieldsOf(x.bytes!);
    if (str(entry.find((e) => e.field === 1)!) === 'location') return str(entry.find((e) => e.field === 2)!);
  }
  return null;
}

function identity(from: string, to: string): Node {
  const raw = Uint8Array.from(strField(4, 'Identity').flatMap((p) => [...p]));
  return { inputs: [from], outputs: [to], opType: 'Identity', rest: fieldsOf(raw), nestedRefs: new Set() };
}

/** Outputs the split keeps: logits and self-attention presents (the encoder presents only pass through). */
const kept = (name: string): boolean => !/^present\.\d+\.encoder\./.test(name);

/**
 * A merged decoder with its `If` node replaced by the with-past branch (use_cache_branch true) as
 * a standalone ONNX model: the outer inputs, initializers and nodes the kept outputs need, the
 * branch's nodes under the If's output names, and no encoder presents. Optimum's layout has every
 * layer inside the If; the project's own merged graphs use their If to pick caches, the layers
 * outside it; both come out the same way. Null when the graph has no such If.
 */
export function splitWithPast(bytes: Uint8Array): { pieces: Pieces; externalData: Set<string> } | null {
  const model = fieldsOf(bytes);
  const graphField = model.find((f) => f.field === 7 && f.bytes);
  if (!graphField) return null;
  const outer = fieldsOf(graphField.bytes!);
  const outerNodes = outer.filter((f) => f.field === 1).map((f) => parseNode(f.bytes!));
  const ifs = outerNodes.filter((n) => n.opType === 'If');
  if (ifs.length !== 1 || ifs[0]!.inputs[0] !== 'use_cache_branch') return null;
  const ifNode = ifs[0]!;
  const then = ifNode.rest.filter((f) => f.field === 5 && attrName(f.bytes!) === 'then_branch').flatMap((f) => attributeGraphs(f.bytes!))[0];
  if (!then) return null;
  const branch = fieldsOf(then);
  const branchNodes = branch.filter((f) => f.field === 1).map((f) => parseNode(f.bytes!));
  const branchOutputs = branch.filter((f) => f.field === 12).map(nameOf);
  const graphOutputs = outer.filter((f) => f.field === 12 && kept(nameOf(f)));
  if (branchOutputs.length !== ifNode.outputs.length || !graphOutputs.some((f) => nameOf(f) === 'logits')) return null;

  // The branch's values under the If's output names: renamed where they can be, an Identity added
  // where not (a value given twice, or one the branch reads from the outer scope).
  const produced = new Set(branchNodes.flatMap((n) => n.outputs));
  const branchNames = new Set(branchNodes.flatMap((n) => [...n.inputs, ...n.outputs, ...n.nestedRefs]));
  const rename = new Map<string, string>();
  const identities: Node[] = [];
  ifNode.outputs.forEach((outerName, i) => {
    const inner = branchOutputs[i]!;
    if (inner === outerName) return;
    const renamable = produced.has(inner) && !rename.has(inner) && !branchNames.has(outerName) && !branchNodes.some((n) => n.nestedRefs.has(inner));
    if (renamable) rename.set(inner, outerName);
    else identities.push(identity(inner, outerName));
  });
  const at = outerNodes.indexOf(ifNode);
  const nodes = [...outerNodes.slice(0, at), ...branchNodes, ...identities, ...outerNodes.slice(at + 1)];

  // Only the nodes the kept outputs need (the dropped presents' copies go).
  const live = new Set(graphOutputs.map(nameOf));
  const liveNodes: Node[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (!n.outputs.some((o) => live.has(rename.get(o) ?? o))) continue;
    liveNodes.unshift(n);
    for (const x of [...n.inputs, ...n.nestedRefs]) live.add(rename.get(x) ?? x);
  }
  if (live.has('use_cache_branch')) return null;

  const graph: Pieces = [];
  for (const n of liveNodes) graph.push(...encodeNode(n, rename));
  for (const f of outer) if (f.field === 2) graph.push(...strField(2, `${str(f)}_with_past`));
  const externalData = new Set<string>();
  for (const f of [...outer, ...branch]) {
    if ((f.field !== 5 && f.field !== 15) || !live.has(nameOf(f))) continue;
    graph.push(f.raw);
    const location = f.field === 5 ? externalLocation(f) : null;
    if (location) externalData.add(location);
  }
  for (const f of outer) if (f.field === 11 && live.has(nameOf(f))) graph.push(f.raw);
  for (const f of graphOutputs) graph.push(f.raw);
  for (const f of [...outer, ...branch]) if (f.field === 13 && live.has(nameOf(f)) && !rename.has(nameOf(f))) graph.push(f.raw);

  const out: Pieces = [];
  for (const f of model) out.push(...(f === graphField ? field(7, graph) : [f.raw]));
  return { pieces: out, externalData };
}

const SPLIT_FILE = 'decoder_with_past_split.onnx';
/** In each path key's folder: the merged file it was split from, so that pruning can tell it is gone. */
const SOURCE_RECORD = 'source.json';
const KEY = /^[0-9a-f]{16}$/;
/**
 * A derived entry whose source is gone is kept this long after its last write: another process
 * may be writing it (its source deleted meanwhile), and no split write takes nearly this long.
 */
export const PRUNE_GRACE_MS = 60 * 60 * 1000;

/** Splits under way in this process, by target: concurrent loads of one model share one split. */
const pending = new Map<string, Promise<string | null>>();

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

/**
 * The graph for one-token cached steps beside merged decoder `mergedPath`: Optimum's
 * decoder_with_past file when present, else a split of the merged file cached under `cacheDir`
 * (keyed by the merged file's path, then its size and mtime). Null when the merged file has no
 * use_cache_branch `If` (the engine then runs it alone, as before). The merged file is read and
 * the split written asynchronously; cutting the branch out of the bytes is synchronous (a walk
 * over protobuf fields, no weight is decoded).
 */
export async function withPastDecoder(mergedPath: string, cacheDir: string): Promise<string | null> {
  const dir = dirname(mergedPath);
  // Optimum names the with-past file as the merged one (decoder_model_merged_quantized.onnx ->
  // decoder_with_past_model_quantized.onnx, _fp16, _int8, ...): never pair a variant with fp32's.
  const name = basename(mergedPath);
  const exported = name.includes('decoder_model_merged') ? join(dir, name.replace('decoder_model_merged', 'decoder_with_past_model')) : null;
  if (exported && existsSync(exported)) return exported;
  const st = statSync(mergedPath);
  const source = resolve(mergedPath);
  const byPath = join(cacheDir, 'derived', hash(source));
  const version = hash(`${SPLIT_VERSION}\n${st.size}\n${st.mtimeMs}`);
  const target = join(byPath, version, SPLIT_FILE);
  if (existsSync(target) && linksCurrent(dirname(target), dir)) {
    // Splits written before sources were recorded get their record when next used (best effort:
    // a read-only cache still serves the split).
    if (!existsSync(join(byPath, SOURCE_RECORD))) await recordSource(byPath, source).catch(() => undefined);
    return target;
  }
  if (existsSync(`${target}.none`) || existsSync(`${target}.nolink`)) return null;
  let job = pending.get(target);
  if (!job) {
    job = writeSplit(source, cacheDir, byPath, version, target).finally(() => pending.delete(target));
    pending.set(target, job);
  }
  return job;
}

async function writeSplit(mergedPath: string, cacheDir: string, byPath: string, version: string, target: string): Promise<string | null> {
  const dir = dirname(mergedPath);
  const marker = `${target}.none`;
  // A cache on another file system than the model cannot hold hard links: remembered, so later
  // loads do not read and split the merged file again only to fail the same way.
  const noLinks = `${target}.nolink`;
  const split = splitWithPast(new Uint8Array(await readFile(mergedPath)));
  // Another process may have written the split while this one read the file.
  if (existsSync(target) && linksCurrent(dirname(target), dir)) return target;
  // Splits of an earlier version of the file go: their hard links would keep its weights on disk.
  // The current version's folder stays (another process may have just written it and be opening
  // it); only its stale links go.
  if (existsSync(byPath)) for (const old of readdirSync(byPath)) if (old !== version && old !== SOURCE_RECORD && !old.startsWith('.')) rmSync(join(byPath, old), { recursive: true, force: true });
  if (existsSync(target)) rmSync(dirname(target), { recursive: true, force: true });
  mkdirSync(dirname(target), { recursive: true });
  removeStaleTemps(dirname(target));
  await recordSource(byPath, mergedPath);
  if (!split) {
    await writeFileAtomic(marker, []);
    pruneDerived(cacheDir);
    return null;
  }
  // ONNX Runtime reads external data only from inside the model's folder: the split gets hard
  // links to the merged file's weight files (no copy; the cache must be on the same file system).
  for (const location of split.externalData) {
    const from = resolve(dir, location);
    const to = resolve(dirname(target), location);
    // A location outside the model's folder (`../x`) is not linked: it would land outside the split's folder too.
    if (!inside(dir, from) || !inside(dirname(target), to)) continue;
    mkdirSync(dirname(to), { recursive: true });
    try {
      linkWeights(from, to);
    } catch (e) {
      await writeFileAtomic(noLinks, []);
      throw e;
    }
  }
  await writeFileAtomic(target, split.pieces);
  pruneDerived(cacheDir);
  return target;
}

/** Temporary files of a write that never finished (a process killed mid-split): only old ones, another process may be writing now. */
function removeStaleTemps(folder: string): void {
  for (const name of readdirSync(folder)) {
    if (!name.startsWith('.') || !name.includes('.tmp-')) continue;
    const p = join(folder, name);
    try {
      const st = lstatSync(p);
      if (st.isFile() && Date.now() - st.mtimeMs > PRUNE_GRACE_MS) rmSync(p, { force: true });
    } catch {
      // Gone meanwhile (its writer renamed it into place): nothing to do.
    }
  }
}

function inside(folder: string, p: string): boolean {
  const r = relative(resolve(folder), p);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r);
}

/** Hard-links `from` at `to`; a link there already to the same file (another process splitting it too) is kept. */
function linkWeights(from: string, to: string): void {
  // A link left by a split that never finished, to weights replaced since, goes.
  if (existsSync(to) && statSync(to).ino !== statSync(from).ino) rmSync(to, { force: true });
  try {
    linkSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || statSync(to).ino !== statSync(from).ino) throw e;
  }
}

async function recordSource(byPath: string, source: string): Promise<void> {
  await writeFileAtomic(join(byPath, SOURCE_RECORD), `${JSON.stringify({ source })}\n`);
}

/** Whether the split's hard links are still the model's weight files (not replaced since the split). */
function linksCurrent(splitDir: string, modelDir: string): boolean {
  for (const name of readdirSync(splitDir)) {
    // The split itself, its markers, and temporary files of a write under way.
    if (name.startsWith(SPLIT_FILE) || name.startsWith('.')) continue;
    const link = statSync(join(splitDir, name));
    const model = join(modelDir, name);
    if (link.isFile() && (!existsSync(model) || statSync(model).ino !== link.ino)) return false;
  }
  return true;
}

/**
 * Removes the derived entries (`<cacheDir>/derived/<path key>/`) whose recorded source file no
 * longer exists, once nothing in them was written for PRUNE_GRACE_MS; their hard links would
 * otherwise keep a deleted model's weights on disk. Entries without a record (written by an
 * earlier QUALS, or being created) and anything else under the cache stay. Returns the removed
 * folders. Housekeeping: a folder it cannot read is left as it is, and it never throws.
 */
export function pruneDerived(cacheDir: string): string[] {
  const now = Date.now();
  const derived = join(cacheDir, 'derived');
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(derived);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!KEY.test(name)) continue;
    const entry = join(derived, name);
    try {
      if (!lstatSync(entry).isDirectory()) continue;
      const source = recordedSource(entry);
      if (source === null || !gone(source) || newestWrite(entry) > now - PRUNE_GRACE_MS) continue;
      rmSync(entry, { recursive: true, force: true });
      removed.push(entry);
    } catch {
      // left for a later write to try again
    }
  }
  return removed;
}

function recordedSource(entry: string): string | null {
  try {
    const value = JSON.parse(readFileSync(join(entry, SOURCE_RECORD), 'utf8')) as { source?: unknown };
    return typeof value.source === 'string' && isAbsolute(value.source) ? value.source : null;
  } catch {
    return null;
  }
}

/** Only a file that is not there counts as gone (an unreadable folder or a permission error does not). */
function gone(path: string): boolean {
  try {
    statSync(path);
    return false;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR';
  }
}

/** The latest mtime in a folder tree (links are not followed). */
function newestWrite(path: string): number {
  const st = lstatSync(path);
  let newest = st.mtimeMs;
  if (st.isDirectory()) for (const name of readdirSync(path)) newest = Math.max(newest, newestWrite(join(path, name)));
  return newest;
}
