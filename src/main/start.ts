/**
 * `npm start`: everything in one process — private Redis (unless REDIS_URL is set), the bot with the
 * Playground, and one worker with the demo model (unless ZIMAGE_MODEL_DIR is set).
 */
import { WorkerApp } from '../../worker/worker-app.js';
import { BotApp } from '../app/bot-app.js';
import { bootstrap, exitOnStartupError, onShutdown } from '../app/runtime.js';

async function main(): Promise<void> {
  const rt = await bootstrap('zimage', { allowEmbeddedRedis: true });
  const bot = new BotApp({ config: rt.config, redisUrl: rt.redisUrl, log: rt.log });
  const worker = new WorkerApp({ config: rt.config, redisUrl: rt.redisUrl, log: rt.log });
  onShutdown(async () => {
    await bot.stop();
    await worker.stop();
    await rt.embeddedRedis?.stop();
  });
  const [info] = await Promise.all([worker.start(), bot.start()]);
  process.stdout.write(bot.startLine({ model: info.name, privateRedis: Boolean(rt.embeddedRedis) }));
}

main().catch(exitOnStartupError);
