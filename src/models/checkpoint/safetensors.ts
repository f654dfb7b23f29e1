/**
 * Reads model.safetensors: an 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the raw data.
 * Nothing in the file is executed; offsets are checked against the file size before any read.
 */
import fs from 'node:fs';
import { type Checkpoint, CheckpointError, DTYPE_BYTES, type StoredDtype, type TensorInfo, elementCount, toFloat32 } from './checkpoint';

interface Entry extends TensorInfo {
  begin: number;
  end: number;
}

const MAX_HEADER = 100 * 1024 * 1024;

export function openSafetensors(file: string): Checkpoint {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const bad = (why: string) => new CheckpointError(`${file} is not a valid safetensors file (${why}); download it again.`);
    if (size < 8) throw bad('too short');
    const lenBuf = Buffer.alloc(8);
    fs.readSync(fd, lenBuf, 0, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size) throw bad(`header length ${headerLen}`);
    const headerBuf = Buffer.alloc(headerLen);
    fs.readSync(fd, headerBuf, 0, headerLen, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(headerBuf.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw bad('its header is not JSON');
    }
    const dataStart = 8 + headerLen;
    const entries = new Map<string, Entry>();
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const dtype = e.dtype as StoredDtype;
      if (!(typeof e.dtype === 'string' && e.dtype in DTYPE_BYTES)) throw bad(`tensor ${name} has an unsupported dtype ${String(e.dtype)}`);
      if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`tensor ${name} has no valid shape`);
      const off = e.data_offsets;
      if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`tensor ${name} has no valid data_offsets`);
      const [begin, end] = off as [number, number];
      const shape = e.shape as number[];
      if (end - begin !== elementCount(shape) * DTYPE_BYTES[dtype] || dataStart + end > size) throw bad(`tensor ${name} lies outside the file`);
      entries.set(name, { name, dtype, shape, begin: dataStart + begin, end: dataStart + end });
    }
    let open = true;
    return {
      description: file,
      tensors: entries,
      read(name) {
        const e = entries.get(name);
        if (!e) throw new CheckpointError(`${file} has no tensor ${name}.`);
        if (!open) throw new Error('checkpoint closed');
        const buf = Buffer.alloc(e.end - e.begin);
        let done = 0;
        while (done < buf.length) done += fs.readSync(fd, buf, done, buf.length - done, e.begin + done);
        return toFloat32(buf, e.dtype, elementCount(e.shape));
      },
      close() {
        if (open) fs.closeSync(fd);
        open = false;
      },
    };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}
