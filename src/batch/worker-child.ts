/**
 * The worker side of the pool: builds a scorer once from the `init` message, then answers `score`
 * messages one at a time. Exits when the parent disconnects (parent finished, crashed or was killed).
 */
import type { QualsResult } from '../scoring/result';
import { toWire, type FromWorker, type ToWorker } from './worker-protocol';

export interface WorkerScorer {
  score(source: string, summary: string): Promise<QualsResult>;
  dispose?(): Promise<void>;
}

export function serveWorker(create: (init: unknown) => Promise<WorkerScorer>): Promise<number> {
  // The parent may already be gone (closed the pool, crashed): a lost reply is then no error.
  const send = (m: FromWorker) => {
    if (process.connected) process.send?.(m, undefined, {}, () => {});
  };
  if (!process.send) {
    process.stderr.write('quals: __worker is internal to "quals batch --workers" and needs an IPC channel.\n');
    return Promise.resolve(1);
  }
  return new Promise<number>((resolve) => {
    let scorer: WorkerScorer | null = null;
    // Messages are handled strictly in order: the parent sends one task at a time per worker.
    let chain: Promise<void> = Promise.resolve();
    const handle = async (m: ToWorker): Promise<void> => {
      if (m.type === 'init') {
        try {
          scorer = await create(m.init);
          send({ type: 'ready' });
        } catch (e) {
          send({ type: 'init-error', error: toWire(e) });
        }
      } else if (m.type === 'score') {
        try {
          if (!scorer) throw new Error('worker got a task before init');
          send({ type: 'result', seq: m.seq, result: await scorer.score(m.source, m.summary) });
        } catch (e) {
          send({ type: 'error', seq: m.seq, error: toWire(e) });
        }
      }
    };
    process.on('message', (m: ToWorker) => {
      chain = chain.then(() => handle(m));
    });
    process.on('disconnect', () => {
      void chain.then(async () => {
        await scorer?.dispose?.().catch(() => {});
        resolve(0);
      });
    });
  });
}
