/**
 * `npm start`: everything in one process — private Redis (unless REDIS_URL is set), the bot with the
 * Playground, and one worker with the demo model (unless ZIMAGE_MODEL_DIR is set, or `npm run model:download`
 * put a verified model into DATA_DIR/models/z-image-turbo).
 */
import { applyDefaultModel } from '../../worker/default-model.js';
import { WorkerApp } from '../../worker/worker-app.js';
import { BotApp } from '../app/bot-app.js';
import { bootstrap, exitOnStartupError, onShutdown } from '../app/runtime.js';

async function main(): Promise<void> {
  const rt = await bootstrap('zimage', { allowEmbeddedRedis: true });
  const { config, origin } = await applyDefaultModel(rt.config);
  const bot = new BotApp({ config, redisUrl: rt.redisUrl, log: rt.log });
  const worker = new WorkerApp({ config, redisUrl: rt.redisUrl, log: rt.log });
  onShutdown(async () => {
    await bot.stop();
    await worker.stop();
    await rt.embeddedRedis?.stop();
  });
  const [info] = await Promise.all([worker.start(), bot.start()]);
  process.stdout.write(bot.startLine({ model: `${info.name}${origin ? ` — ${origin}` : ''}`, privateRedis: Boolean(rt.embeddedRedis) }));
}

main().catch(exitOnStartupError);
