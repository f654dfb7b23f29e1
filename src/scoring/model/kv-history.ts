/**
 * The `quals-step` decoder's self-attention cache as the engine keeps it (graphs.ts
 * stepHistoryInputs): per layer, an append-only store of rows [H, hd], one for every token any row
 * of any call on the same text has fed. A decoder state is then a list of row numbers per beam, so
 * reordering beams, expanding a prompt into beams or dropping finished rows copies no tensor, and a
 * call hands back only its new tokens' rows instead of the whole grown cache (which onnxruntime-node
 * copies out of every run: 4-25 ms a step at 60 beams on the BART-base-shaped bench model).
 *
 * Appending never moves a row, so states that share a history (every search on one encoded text)
 * stay valid while others grow it, even between the awaits of interleaved calls.
 */
import { type Feeds, float32Tensor } from './ort';

export class KvHistory {
  private buffers: Float32Array[];
  private capacity: number;
  /** Rows written so far; row numbers below it are valid. */
  rows = 0;

  /**
   * @param names the decoder's history inputs (history.L.{key,value}), in the order `append` takes
   *   the new rows.
   * @param heads,headDim a row's shape.
   */
  constructor(
    readonly names: readonly string[],
    private readonly heads: number,
    private readonly headDim: number,
    initialRows = 256,
  ) {
    this.capacity = Math.max(1, initialRows);
    this.buffers = names.map(() => new Float32Array(this.capacity * heads * headDim));
  }

  private get width(): number {
    return this.heads * this.headDim;
  }

  /** The history inputs over the rows written so far: views of the stores, nothing is copied. */
  feeds(): Feeds {
    const feeds: Feeds = {};
    const n = this.rows * this.width;
    this.names.forEach((name, i) => (feeds[name] = float32Tensor(this.buffers[i]!.subarray(0, n), [this.rows, this.heads, this.headDim])));
    return feeds;
  }

  /** Appends `count` rows taken from each of `rows` (one array per name, [count, H, hd]); returns the first new row's number. */
  append(rows: readonly Float32Array[], count: number): number {
    if (rows.length !== this.names.length) throw new Error(`KvHistory.append: ${rows.length} arrays for ${this.names.length} inputs`);
    const n = count * this.width;
    const wrong = rows.find((data) => data.length !== n);
    if (wrong) throw new Error(`KvHistory.append: ${wrong.length} floats for ${count} rows of ${this.width}`);
    const first = this.rows;
    this.reserve(first + count);
    rows.forEach((data, i) => this.buffers[i]!.set(data, first * this.width));
    this.rows = first + count;
    return first;
  }

  /** The history inputs with no rows (a call with nothing cached gathers none). */
  emptyFeeds(): Feeds {
    const feeds: Feeds = {};
    for (const name of this.names) feeds[name] = float32Tensor(new Float32Array(0), [0, this.heads, this.headDim]);
    return feeds;
  }

  private reserve(rows: number): void {
    if (rows <= this.capacity) return;
    // Growing 8-fold keeps the copies few: a 60-beam search on one text copies its rows at most
    // once or twice. The fresh buffers are zero pages until written, so the unused tail costs
    // address space, not memory. A call already under way keeps the views it was fed (the old
    // buffers stay alive until it ends).
    let capacity = this.capacity;
    while (capacity < rows) capacity *= 8;
    this.buffers = this.buffers.map((old) => {
      const grown = new Float32Array(capacity * this.width);
      grown.set(old.subarray(0, this.rows * this.width));
      return grown;
    });
    this.capacity = capacity;
  }
}
