/** `npm run worker`: one generation worker (one per GPU). Needs REDIS_URL shared with the bots. */
import { bootstrap, exitOnStartupError, onShutdown } from '../src/app/runtime.js';
import { applyDefaultModel } from '../src/model/default-model.js';
import { WorkerApp } from './worker-app.js';

async function main(): Promise<void> {
  const rt = await bootstrap('worker', { allowEmbeddedRedis: false });
  const { config, origin } = await applyDefaultModel(rt.config);
  const app = new WorkerApp({ config, redisUrl: rt.redisUrl, log: rt.log, redisWatch: rt.redisWatch });
  onShutdown((deadline) => app.stop(deadline), rt.config.env.SHUTDOWN_TIMEOUT_MS);
  const info = await app.start();
  rt.log.info({ worker: app.worker.id, model: info.name, version: info.version, ...(origin ? { origin } : {}) }, 'worker ready');
}

main().catch(exitOnStartupError);
