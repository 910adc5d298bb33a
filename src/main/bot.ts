/** `npm run bot`: the bot process alone (production). Needs REDIS_URL; run as many replicas as needed. */
import { BotApp } from '../app/bot-app.js';
import { bootstrap, exitOnStartupError, onShutdown } from '../app/runtime.js';
import { applyDefaultModel } from '../model/default-model.js';

async function main(): Promise<void> {
  const rt = await bootstrap('bot', { allowEmbeddedRedis: false });
  // The same model as the workers on this machine would pick (the bot counts prompt tokens with its tokenizer).
  const { config } = await applyDefaultModel(rt.config);
  const bot = new BotApp({ config, redisUrl: rt.redisUrl, log: rt.log, redisWatch: rt.redisWatch });
  onShutdown((deadline) => bot.stop(deadline), rt.config.env.SHUTDOWN_TIMEOUT_MS);
  await bot.start();
  rt.log.info({ port: bot.boundPort, adapters: [...bot.adapters.keys()] }, 'bot ready');
  process.stdout.write(bot.startLine());
}

main().catch(exitOnStartupError);
