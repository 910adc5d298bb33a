/**
 * `npm start`: everything in one process — private Redis (unless REDIS_URL is set), the bot with the
 * Playground, and one worker with the demo model (unless ZIMAGE_MODEL_DIR is set, or `npm run model:download`
 * put a verified model into DATA_DIR/models/z-image-turbo).
 */
import { applyDefaultModel } from '../model/default-model.js';
import { WorkerApp } from '../../worker/worker-app.js';
import { BotApp } from '../app/bot-app.js';
import { bootstrap, exitOnStartupError, onShutdown } from '../app/runtime.js';

async function main(): Promise<void> {
  const rt = await bootstrap('zimage', { allowEmbeddedRedis: true });
  const { config, origin } = await applyDefaultModel(rt.config);
  const apps = { config, redisUrl: rt.redisUrl, log: rt.log, redisWatch: rt.redisWatch };
  const bot = new BotApp(apps);
  const worker = new WorkerApp(apps);
  const boundMs = rt.config.env.SHUTDOWN_TIMEOUT_MS;
  onShutdown(async (deadline) => {
    // Intake first; the worker's running jobs may finish (and the bot post their results) until shortly before
    // the bound; the private Redis goes last.
    const tail = Math.min(3000, Math.max(300, boundMs * 0.2));
    await bot.stopIntake(deadline);
    await worker.stop(deadline.earlier(tail));
    await bot.stop(deadline.earlier(tail / 2));
    await rt.embeddedRedis?.stop(deadline.remainingMs());
  }, boundMs);
  const [info] = await Promise.all([worker.start(), bot.start()]);
  process.stdout.write(bot.startLine({ model: `${info.name}${origin ? ` — ${origin}` : ''}`, privateRedis: Boolean(rt.embeddedRedis) }));
}

main().catch(exitOnStartupError);
