/**
 * Concurrent map that yields results in input order with a bounded look-ahead, so K workers stay
 * busy while output order equals input order and memory stays flat however long the input is.
 */

export interface OrderedMapOptions {
  /** Calls of `fn` in flight at once. */
  concurrency: number;
  /** Items pulled but not yet yielded, at most (default 4 x concurrency): bounds buffered results. */
  maxAhead?: number;
}

/**
 * Maps `source` through `fn` with up to `concurrency` calls in flight and yields results in source
 * order. If `fn` rejects, the generator throws that error after in-flight calls settle. Breaking out
 * of the loop stops pulling from `source`.
 */
export async function* mapOrdered<T, R>(source: AsyncIterable<T>, opts: OrderedMapOptions, fn: (item: T) => Promise<R>): AsyncGenerator<R> {
  const concurrency = Math.max(1, Math.floor(opts.concurrency));
  const maxAhead = Math.max(concurrency, opts.maxAhead ?? concurrency * 4);
  const it = source[Symbol.asyncIterator]();
  const ready = new Map<number, R>();
  let nextSeq = 0; // seq given to the next pulled item
  let emitted = 0; // results yielded so far
  let endSeq = Infinity; // seq at which the source ended
  let stopped = false;
  let failure: { error: unknown } | null = null;

  let wake!: () => void;
  let changed = new Promise<void>((r) => (wake = r));
  const notify = () => {
    const w = wake;
    changed = new Promise<void>((r) => (wake = r));
    w();
  };

  // Pulls are chained so that seq numbers follow source order even with several lanes waiting.
  let pullChain: Promise<unknown> = Promise.resolve();
  const pull = (): Promise<IteratorResult<T>> => {
    const p = pullChain.then(() => it.next());
    pullChain = p.catch(() => undefined);
    return p;
  };

  const lane = async (): Promise<void> => {
    while (!stopped) {
      if (nextSeq - emitted >= maxAhead) {
        await changed;
        continue;
      }
      const seq = nextSeq++;
      const n = await pull();
      if (n.done) {
        endSeq = Math.min(endSeq, seq);
        notify();
        return;
      }
      if (stopped) return;
      ready.set(seq, await fn(n.value));
      notify();
    }
  };
  let lanesDone = false;
  const lanes = Promise.all(Array.from({ length: concurrency }, lane)).then(
    () => {
      lanesDone = true;
      notify();
    },
    (error: unknown) => {
      failure = { error };
      stopped = true;
      lanesDone = true;
      notify();
    },
  );

  try {
    for (;;) {
      if (failure) break;
      if (ready.has(emitted)) {
        const r = ready.get(emitted)!;
        ready.delete(emitted);
        emitted++;
        notify();
        yield r;
      } else if (emitted >= endSeq || lanesDone) {
        break;
      } else {
        await changed;
      }
    }
  } finally {
    stopped = true;
    notify();
    await lanes;
    if (!failure) await it.return?.();
  }
  if (failure) throw (failure as { error: unknown }).error;
}
