/**
 * `quals __worker` (hidden): one model process of `quals batch --workers K`. It receives the engine
 * configuration over IPC, loads the model once and scores pairs until the parent disconnects.
 */
import { serveWorker } from '../../batch/worker-child';
import type { EngineConfig } from '../../scoring/engine-api';
import { createEngine } from '../../scoring/engine';

export async function run(_args: string[]): Promise<number> {
  // Ctrl-C reaches the whole process group; the parent decides when workers stop.
  process.on('SIGINT', () => {});
  return serveWorker(async (init) => {
    const engine = await createEngine({ ...(init as EngineConfig), log: (line) => process.stderr.write(`quals worker: ${line}\n`) });
    return {
      score: (source, summary) => engine.score({ source, summary }),
      dispose: () => engine.dispose(),
    };
  });
}
