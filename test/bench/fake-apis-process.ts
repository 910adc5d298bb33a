/**
 * The burst benchmark's fake Slack Web API in a process of its own (`node dist/test/bench/fake-apis-process.js`):
 * it prints `{"url": …}` on its first line and serves until SIGTERM. Apart from the load generator, so the time it
 * takes to answer the bot's calls does not delay the acknowledgements the load generator times.
 */
import { startFakePlatformApis } from '../helpers/fake-platform-apis.js';

const fake = await startFakePlatformApis();
process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);
process.on('SIGTERM', () => { void fake.close().finally(() => process.exit(0)); });
