/**
 * Reads the fp32 initializers back out of a model the project's writer produced with inline data
 * (the committed toy model), so its other graphs (the `quals-step` design, the int8 variant) can be
 * written from the same builder without the training run's weight files. Only what the writer
 * emits is understood: TensorProto raw_data (or packed float_data) of FLOAT tensors in the
 * top-level graph; anything else is skipped.
 */
import fs from 'node:fs';

/** Protobuf reader over one message's bytes (also used by scoring/model/merged-split.ts). */
export class Reader {
  pos = 0;
  constructor(
    private readonly b: Uint8Array,
    readonly end = b.length,
  ) {}

  varint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      const byte = this.b[this.pos++]!;
      v += (byte & 0x7f) * mul;
      if (byte < 0x80) return v;
      mul *= 128;
    }
  }

  /**
   * Each field as (number, wire type, payload bytes for length-delimited, value for varints), and
   * `raw`: the whole field, tag included, for copying it unchanged.
   */
  *fields(): Generator<{ field: number; wire: number; bytes?: Uint8Array; value?: number; raw: Uint8Array }> {
    while (this.pos < this.end) {
      const start = this.pos;
      const key = this.varint();
      const field = Math.floor(key / 8);
      const wire = key & 7;
      if (wire === 0) {
        const value = this.varint();
        yield { field, wire, value, raw: this.b.subarray(start, this.pos) };
      } else if (wire === 2) {
        const n = this.varint();
        const bytes = this.b.subarray(this.pos, this.pos + n);
        this.pos += n;
        yield { field, wire, bytes, raw: this.b.subarray(start, this.pos) };
      } else if (wire === 5 || wire === 1) {
        this.pos += wire === 5 ? 4 : 8;
        yield { field, wire, raw: this.b.subarray(start, this.pos) };
      } else throw new Error(`unsupported protobuf wire type ${wire}`);
    }
  }
}

const FLOAT = 1;

/** name -> values of every FLOAT initializer of the model's top-level graph. */
export function readFloatInitializers(modelPath: string): Map<string, { dims: number[]; data: Float32Array }> {
  const out = new Map<string, { dims: number[]; data: Float32Array }>();
  const bytes = new Uint8Array(fs.readFileSync(modelPath));
  for (const m of new Reader(bytes).fields()) {
    if (m.field !== 7 || !m.bytes) continue; // ModelProto.graph
    for (const g of new Reader(m.bytes).fields()) {
      if (g.field !== 5 || !g.bytes) continue; // GraphProto.initializer
      let name = '';
      let type = 0;
      const dims: number[] = [];
      let raw: Uint8Array | null = null;
      for (const t of new Reader(g.bytes).fields()) {
        if (t.field === 1 && t.value !== undefined) dims.push(t.value);
        else if (t.field === 1 && t.bytes) {
          const r = new Reader(t.bytes);
          while (r.pos < r.end) dims.push(r.varint());
        } else if (t.field === 2) type = t.value!;
        else if (t.field === 8) name = new TextDecoder().decode(t.bytes);
        else if ((t.field === 9 || t.field === 4) && t.bytes) raw = t.bytes; // raw_data, packed float_data
      }
      if (type !== FLOAT || !raw) continue;
      const data = new Float32Array(raw.length / 4);
      new Uint8Array(data.buffer).set(raw); // copied: the protobuf offsets need not be 4-byte aligned
      out.set(name, { dims, data });
    }
  }
  return out;
}
