/**
 * A minimal read-only ZIP reader over a file descriptor, enough for torch.save's archives:
 * the end-of-central-directory record (with ZIP64, which torch always writes), the central
 * directory, and local headers. STORED entries (torch's only method) are read lazily at
 * offsets, DEFLATED ones are inflated whole. Every offset is checked against the file size.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { CheckpointError } from './checkpoint';

export const STORED = 0;
export const DEFLATED = 8;

export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

export interface ZipArchive {
  readonly file: string;
  /** Entries by name, in central-directory order. */
  readonly entries: ReadonlyMap<string, ZipEntry>;
  /** The whole entry, inflated if needed and checked against its CRC-32. */
  read(entry: ZipEntry, maxBytes?: number): Buffer;
  /** `length` bytes of the entry's (uncompressed) content from `start`; no CRC check (that needs the whole entry). */
  readRange(entry: ZipEntry, start: number, length: number): Buffer;
  close(): void;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

export function openZip(file: string): ZipArchive {
  const fd = fs.openSync(file, 'r');
  try {
    return readArchive(file, fd);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

function readArchive(file: string, fd: number): ZipArchive {
  const size = fs.fstatSync(fd).size;
  const bad = (why: string) => new CheckpointError(`${file} is not a valid zip archive (${why}); download it again.`);
  const readAt = (pos: number, length: number): Buffer => {
    if (pos < 0 || length < 0 || pos + length > size) throw bad(`it ends before byte ${pos + length} that it refers to (the file has ${size} bytes; truncated?)`);
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(fd, buf, done, length - done, pos + done);
      if (n === 0) throw bad('it changed size while being read');
      done += n;
    }
    return buf;
  };
  const u64 = (buf: Buffer, at: number, what: string): number => {
    const v = buf.readBigUInt64LE(at);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`${what} is too large`);
    return Number(v);
  };

  // The EOCD record is the last 22 bytes, unless a comment (at most 64 KiB) follows it.
  if (size < EOCD_SIZE) throw bad('too short');
  const tailLen = Math.min(size, EOCD_SIZE + MAX_COMMENT);
  const tail = readAt(size - tailLen, tailLen);
  let eocdAt = -1;
  for (let i = tailLen - EOCD_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) === SIG_EOCD && i + EOCD_SIZE + tail.readUInt16LE(i + 20) === tailLen) {
      eocdAt = i;
      break;
    }
  }
  if (eocdAt < 0) throw bad('no end-of-central-directory record; truncated?');
  const eocdPos = size - tailLen + eocdAt;
  const eocd = tail.subarray(eocdAt, eocdAt + EOCD_SIZE);
  if (eocd.readUInt16LE(4) !== 0 || eocd.readUInt16LE(6) !== 0) throw bad('it spans several disks');
  let count = eocd.readUInt16LE(10);
  let cdSize = eocd.readUInt32LE(12);
  let cdOffset = eocd.readUInt32LE(16);

  // ZIP64: a locator just before the EOCD points at a record with 64-bit counts and offsets.
  if (eocdPos >= 20) {
    const loc = readAt(eocdPos - 20, 20);
    if (loc.readUInt32LE(0) === SIG_ZIP64_LOCATOR) {
      const recPos = u64(loc, 8, 'the ZIP64 record offset');
      const rec = readAt(recPos, 56);
      if (rec.readUInt32LE(0) !== SIG_ZIP64_EOCD) throw bad('its ZIP64 locator points at no ZIP64 record');
      if (rec.readUInt32LE(16) !== 0 || rec.readUInt32LE(20) !== 0) throw bad('it spans several disks');
      count = u64(rec, 32, 'the entry count');
      cdSize = u64(rec, 40, 'the central directory size');
      cdOffset = u64(rec, 48, 'the central directory offset');
    }
  }
  if (cdOffset + cdSize > eocdPos) throw bad('its central directory lies outside the file');
  if (count > cdSize / 46) throw bad(`it claims ${count} entries in a ${cdSize}-byte directory`);

  const cd = readAt(cdOffset, cdSize);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) throw bad(`central directory entry ${i} is damaged`);
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    const crc32 = cd.readUInt32LE(p + 16);
    let compressedSize = cd.readUInt32LE(p + 20);
    let uncompressed = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cd.length) throw bad(`central directory entry ${i} is damaged`);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    // ZIP64 extra field (id 1): 64-bit values, present only for the fields saturated at 0xFFFFFFFF, in this order.
    for (let x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen; ) {
      const id = cd.readUInt16LE(x);
      const len = cd.readUInt16LE(x + 2);
      if (id === 1) {
        let q = x + 4;
        const next = (what: string) => {
          if (q + 8 > x + 4 + len) throw bad(`the ZIP64 field of ${name} is short`);
          const v = u64(cd, q, what);
          q += 8;
          return v;
        };
        if (uncompressed === 0xffffffff) uncompressed = next('a size');
        if (compressedSize === 0xffffffff) compressedSize = next('a size');
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next('an offset');
      }
      x += 4 + len;
    }
    if (flags & 1) throw bad(`${name} is encrypted`);
    if (method !== STORED && method !== DEFLATED) throw bad(`${name} uses compression method ${method}`);
    if (method === STORED && compressedSize !== uncompressed) throw bad(`${name} is stored with two different sizes`);
    if (localHeaderOffset + 30 + compressedSize > cdOffset) throw bad(`${name} lies outside the file`);
    if (entries.has(name)) throw bad(`${name} appears twice`);
    entries.set(name, { name, method, crc32, compressedSize, size: uncompressed, localHeaderOffset });
    p = end;
  }

  // The data starts after the local header, whose name/extra lengths may differ from the central ones.
  const dataStarts = new Map<ZipEntry, number>();
  const dataStart = (e: ZipEntry): number => {
    let at = dataStarts.get(e);
    if (at === undefined) {
      const h = readAt(e.localHeaderOffset, 30);
      if (h.readUInt32LE(0) !== SIG_LOCAL) throw bad(`the local header of ${e.name} is missing`);
      at = e.localHeaderOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
      if (at + e.compressedSize > cdOffset) throw bad(`${e.name} lies outside the file`);
      dataStarts.set(e, at);
    }
    return at;
  };

  let open = true;
  const check = () => {
    if (!open) throw new Error(`${file} is closed`);
  };
  const read = (e: ZipEntry, maxBytes = Infinity): Buffer => {
    check();
    if (e.size > maxBytes) throw bad(`${e.name} is ${e.size} bytes, more than the ${maxBytes} allowed`);
    const raw = readAt(dataStart(e), e.compressedSize);
    let data = raw;
    if (e.method === DEFLATED) {
      try {
        data = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
      } catch (err) {
        throw bad(`${e.name} does not inflate: ${(err as Error).message}`);
      }
    }
    if (data.length !== e.size) throw bad(`${e.name} has ${data.length} bytes, not ${e.size}`);
    if (crc32(data) !== e.crc32) throw bad(`${e.name} fails its CRC check`);
    return data;
  };
  return {
    file,
    entries,
    read,
    readRange(e, start, length) {
      check();
      if (start < 0 || length < 0 || start + length > e.size) throw bad(`bytes ${start}..${start + length} lie outside ${e.name} (${e.size} bytes)`);
      if (e.method === STORED) return readAt(dataStart(e) + start, length);
      return read(e).subarray(start, start + length);
    },
    close() {
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE, as zip uses); written here because zlib.crc32 is missing from older Node 20 releases. */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
