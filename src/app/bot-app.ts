/**
 * The bot process: chat adapters, command handling, queueing, the status tracker, delivery, and the HTTP
 * port (health, assets, Playground, webhooks). Stateless apart from Redis: run as many replicas as needed.
 */
import type { Redis } from 'ioredis';
import { createAssetStore } from '../assets/create-store.js';
import { AssetRetention } from '../assets/retention.js';
import { ActionRouter } from '../intake/actions.js';
import { Intake } from '../intake/pipeline.js';
import { JobLifecycle } from '../jobs/lifecycle.js';
import { BotSubcommands } from '../commands/subcommand.js';
import { IndexWriter } from '../library/index-writer.js';
import { ImageLibrary } from '../library/library.js';
import type { BotAction, BotRequest, ChatAdapter } from '../chat/types.js';
import { DEFAULT_COMMAND_RULES, type CommandRules } from '../commands/index.js';
import { isLoopbackHost, listenHost, type Config, type FileConfig } from '../config.js';
import { DeliverWorker } from '../delivery/deliver-worker.js';
import { FastLane } from '../delivery/fast-lane.js';
import { registerAssetRoutes } from '../http/asset-routes.js';
import { registerHealthRoutes } from '../http/health-routes.js';
import { registerIconRoutes } from '../http/icon-routes.js';
import { HttpServer } from '../http/server.js';
import type { Logger } from '../infra/logger.js';
import { Deadline } from '../infra/deadline.js';
import { createRedis } from '../infra/redis.js';
import { closeRedis, redisLabel, RedisWatch, untilReady } from '../infra/redis-health.js';
import { requireRedisVersion } from '../infra/redis-version.js';
import { Keys } from '../jobs/keys.js';
import { openQueues, type Queues } from '../jobs/queues.js';
import { demoPromptTokenizer, loadPromptTokenizer } from '../model/prompt-tokenizer.js';
import { Observability } from '../observability/index.js';
import { AuditLog } from '../quota/audit.js';
import { quotaCommands } from '../quota/commands.js';
import { QuotaPolicy } from '../quota/policy.js';
import { QuotaService } from '../quota/service.js';
import { SettingsSource } from '../settings-source.js';
import { templateCommands } from '../templates/commands.js';
import { TemplateLibrary } from '../templates/library.js';
import { templatesDir } from '../templates/dir.js';
import { registerAdminRoutes } from '../http/admin-routes.js';
import { scheduleCommand } from '../schedules/commands.js';
import { ScheduleRunner } from '../schedules/runner.js';
import { ScheduleService } from '../schedules/service.js';
import { ScheduleStore } from '../schedules/store.js';
import { StatusStore } from '../jobs/status-store.js';
import { StatusTracker } from '../status/tracker.js';
import { buildAdapters } from './adapters.js';
import { commandRules } from './command-rules.js';
import { wireLibrary } from './library-wiring.js';
import type { Gallery } from '../gallery/gallery.js';
import { startLine } from './start-line.js';
import type { PlaygroundAdapter } from '../../adapters/playground/playground-adapter.js';

export interface BotAppOptions {
  config: Config;
  redisUrl: string;
  log: Logger;
  /** Logs Redis outages once per process (default: one of its own). */
  redisWatch?: RedisWatch;
}

/** Kept at the end of a shutdown to close the connections (QUIT, then drop). */
const CLOSE_MS = 300;


export class BotApp {
  readonly http: HttpServer;
  readonly keys: Keys;
  readonly adapters = new Map<string, ChatAdapter>();
  readonly redis: Redis;
  readonly queues: Queues;
  readonly store: StatusStore;
  readonly intake: Intake;
  readonly lifecycle: JobLifecycle;
  readonly settings: SettingsSource;
  readonly quota: QuotaService;
  readonly templates: TemplateLibrary;
  readonly schedules: ScheduleService;
  readonly scheduleStore: ScheduleStore;
  private readonly scheduleRunner: ScheduleRunner;
  readonly actions: ActionRouter;
  /** Register `/zimage <word> …` handlers here (quota, usage, status …). */
  readonly subcommands = new BotSubcommands();
  /** Metrics, /status, /zimage status, dead letters, alerts. */
  readonly obs: Observability;
  /** The image index (src/library): gallery, search, compliance, usage charts. Open once `start` resolved. */
  readonly library: ImageLibrary;
  /** The gallery (src/gallery): pages, API, sign-in through chat. */
  readonly gallery: Gallery;
  private readonly indexWriter: IndexWriter;
  private readonly retention: AssetRetention;
  private readonly tracker: StatusTracker;
  private readonly deliver: DeliverWorker;
  private readonly fastLane: FastLane;
  private readonly connections: Redis[] = [];
  private readonly playground: PlaygroundAdapter | undefined;
  /** Slack and Lark as configured, added to `adapters` when the bot starts (see app/adapters.ts). */
  private readonly platforms: () => Promise<ChatAdapter[]>;
  private readonly watch: RedisWatch;
  private port = 0;
  private intakeStopped: Promise<void> | undefined;

  constructor(private readonly o: BotAppOptions) {
    const { config, log } = o;
    const prefix = config.env.QUEUE_PREFIX;
    this.keys = new Keys(prefix);
    this.watch = o.redisWatch ?? new RedisWatch(log, redisLabel(o.redisUrl));
    const watch = this.watch;
    // Answering people: fails at once while Redis is unreachable (see RedisRole); BullMQ workers get their own.
    this.redis = createRedis(o.redisUrl, 'zimage-bot', { role: 'command', watch, autoPipelining: true });
    // The queues on a connection of their own: BullMQ defines its ~50 scripts on the connection it is given,
    // and ioredis copies every defined script into each MULTI and pipeline made on that connection — which
    // the bot's own many small transactions would otherwise pay for.
    const queueRedis = createRedis(o.redisUrl, 'zimage-bot-queues', { role: 'command', watch });
    this.connections.push(queueRedis);
    this.queues = openQueues(queueRedis, prefix);
    this.store = new StatusStore(this.redis, this.keys);
    const e = config.env;
    this.http = new HttpServer(log, {
      bodyLimitBytes: e.HTTP_BODY_LIMIT_BYTES, headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS, requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      idleTimeoutMs: e.HTTP_IDLE_TIMEOUT_MS, maxConnections: e.HTTP_MAX_CONNECTIONS,
    });
    const assets = createAssetStore(config);
    const audit = new AuditLog(this.redis, this.keys);
    this.library = new ImageLibrary({ dataDir: config.dataDir, assets, audit, log, ...(config.env.DATABASE_URL ? { url: config.env.DATABASE_URL } : {}) });
    this.indexWriter = new IndexWriter({ sink: this.library, redis: this.redis, keys: this.keys, log });
    this.retention = new AssetRetention(assets, config.env.ASSET_RETENTION_DAYS, this.redis, this.keys, log, undefined, this.library);
    // The one live source of the settings file: every consumer reads it when it needs a value (hot reload).
    this.settings = new SettingsSource(config, log);
    const settings = (): Readonly<FileConfig> => this.settings.current();
    const defaultLocale = (): string => settings().locale ?? config.env.LOCALE;
    const built = buildAdapters({
      config, settings, http: this.http, redis: this.redis, redisUrl: o.redisUrl, redisWatch: watch, prefix, log,
      // Called only once the bot runs, after `obs` exists.
      onRateLimited: (platform, operation) => this.obs.platformRateLimited(platform, operation),
    });
    for (const a of built.adapters) this.adapters.set(a.platform, a);
    this.playground = built.playground;
    this.platforms = built.platforms;
    this.connections.push(...built.connections);
    registerHealthRoutes(this.http, this.redis, this.keys);
    registerIconRoutes(this.http);
    registerAssetRoutes(this.http, assets, built.assetGates);
    this.obs = new Observability({
      config, http: this.http, redis: this.redis, keys: this.keys, queues: this.queues, store: this.store, adapters: this.adapters,
      defaultLocale, log,
    });
    let policy = new QuotaPolicy(config.settings.quota);
    this.settings.onChange((s) => { policy = new QuotaPolicy(s.quota); });
    this.quota = new QuotaService(this.redis, this.keys, () => policy, this.adapters, log);
    this.subcommands.add(this.obs.statusCommand(async (r) => (await this.quota.roleOf(r)).manager));
    // After the figures, the usage chart (the library's wiring below).
    for (const cmd of quotaCommands({ quota: this.quota, audit, policy: () => policy, afterUsage: (ctx, period) => lib.afterUsage(ctx, period) })) this.subcommands.add(cmd);
    const rules = (): CommandRules => commandRules(settings());
    const { minSide, maxSide, sideMultiple } = DEFAULT_COMMAND_RULES.limits;
    const sizeOk = (w: number, h: number): boolean => [w, h].every((x) => x >= minSide && x <= maxSide && x % sideMultiple === 0);
    this.templates = new TemplateLibrary(templatesDir(config), sizeOk, log);
    for (const cmd of templateCommands({ templates: this.templates, quota: this.quota, policy: () => policy, settings: this.settings })) this.subcommands.add(cmd);
    const scheduleStore = new ScheduleStore(this.redis, this.keys);
    this.scheduleStore = scheduleStore;
    this.schedules = new ScheduleService(queueRedis, prefix, scheduleStore);
    const scheduleRedis = createRedis(o.redisUrl, 'zimage-schedules', { watch });
    this.connections.push(scheduleRedis);
    this.lifecycle = new JobLifecycle({
      redis: this.redis, keys: this.keys, queues: this.queues, store: this.store, quota: this.quota, adapters: this.adapters, log,
      // With several replicas the tracker may run elsewhere; then its next tick shows the final state.
      onEnded: () => this.tracker.nudge(),
    });
    // The image library's gallery, chat commands and usage charts (src/app/library-wiring.ts).
    const lib = wireLibrary({
      config, http: this.http, redis: this.redis, keys: this.keys, store: this.store, lifecycle: this.lifecycle, library: this.library, quota: this.quota,
      audit, adapters: this.adapters, hooks: this.obs, defaultLocale, log,
      workspaceLocale: (platform, workspace) => settings().workspaceLocales[`${platform}:${workspace}`],
    });
    this.gallery = lib.gallery;
    built.assetGates.push(lib.gallery.assetGate);
    for (const cmd of lib.commands) this.subcommands.add(cmd);
    this.scheduleRunner = new ScheduleRunner({
      connection: scheduleRedis, prefix, lifecycle: this.lifecycle, schedules: scheduleStore, adapters: this.adapters, templates: this.templates, rules, log, usageReport: lib.usageReport,
    });
    this.subcommands.add(scheduleCommand({
      service: this.schedules, store: scheduleStore, templates: this.templates, quota: this.quota, audit, rules, defaultTz: () => policy.timezone,
      minIntervalMinutes: () => this.settings.current().schedules.minIntervalMinutes,
    }));
    registerAdminRoutes(this.http, config.env.ADMIN_TOKEN, this.templates, this.settings);
    const modelDir = config.env.ZIMAGE_MODEL_DIR;
    this.intake = new Intake({
      keys: this.keys, adapters: this.adapters, lifecycle: this.lifecycle, quota: this.quota, templates: this.templates, subcommands: this.subcommands,
      rules, maxTokens: () => settings().generation.maxTokens,
      localeOf: (req) => settings().workspaceLocales[`${req.platform}:${req.workspace}`] ?? req.locale ?? defaultLocale(),
      tokenizer: async () => (modelDir ? loadPromptTokenizer(modelDir) : demoPromptTokenizer()), hooks: this.obs, log,
      answered: () => this.http.answered(),
    });
    this.actions = new ActionRouter({ redis: this.redis, keys: this.keys, store: this.store, lifecycle: this.lifecycle, quota: this.quota, hooks: this.obs, log });
    this.tracker = new StatusTracker({
      redis: this.redis, keys: this.keys, queue: this.queues.generate, store: this.store, adapters: this.adapters, lifecycle: this.lifecycle,
      tickMs: config.env.STATUS_TICK_MS, pacing: () => settings().status, hooks: this.obs, log,
    });
    // Deliveries are on the user's critical path: their own connection keeps them clear of the tracker's reads.
    const deliverRedis = createRedis(o.redisUrl, 'zimage-deliver', { watch });
    this.connections.push(deliverRedis);
    this.deliver = new DeliverWorker({
      connection: deliverRedis, prefix, keys: this.keys, store: this.store, lifecycle: this.lifecycle, assets, adapters: this.adapters, hooks: this.obs, log,
      index: this.indexWriter,
    });
    const laneRedis = createRedis(o.redisUrl, 'zimage-fast-lane', { watch });
    this.connections.push(laneRedis);
    this.fastLane = new FastLane({
      blocking: laneRedis, connection: deliverRedis, keys: this.keys, queue: this.queues.deliver, deliver: this.deliver, log,
    });
  }

  /** The HTTP port actually bound (useful with PORT=0). */
  get boundPort(): number { return this.port; }

  /** The start line (README "The two commands"): where it listens, the Playground's access, what runs. */
  startLine(extra: { model?: string; privateRedis?: boolean } = {}): string {
    const access = this.playground?.access;
    return startLine({
      addresses: this.http.addresses(), platforms: [...this.adapters.keys()], ...extra,
      ...(this.o.config.env.PUBLIC_URL ? { publicUrl: this.o.config.env.PUBLIC_URL } : {}),
      ...(access ? { playground: { mode: access.mode, ...(access.token ? { token: access.token } : {}) } } : {}),
    });
  }

  /** Start-up warnings about settings that leave more open than a team would want. */
  private warnAboutExposure(): void {
    const env = this.o.config.env;
    if (isLoopbackHost(listenHost(env))) return;
    if (!env.METRICS_TOKEN) {
      this.o.log.warn('GET /metrics is reachable from other machines without a token: set METRICS_TOKEN (or keep the port on a private network)');
    }
  }

  async start(): Promise<void> {
    const { config } = this.o;
    // Before anything listens: Slack's HTTP receiver and Lark's webhook add their routes as they are made.
    for (const a of await this.platforms()) this.adapters.set(a.platform, a);
    // Load the tokenizer up front: a broken model dir fails at start, not at the first command.
    await this.intake.warmUp();
    // Commands fail at once while Redis is unreachable: start once it answers (an outage is logged meanwhile).
    await untilReady(this.redis);
    await requireRedisVersion(this.redis, redisLabel(this.o.redisUrl));
    // The image index opens (and migrates) while the rest starts; deliveries wait for it. Not before Redis
    // answers: a first PGlite start (initdb) holds the event loop for seconds, which a stop must not wait out.
    const library = this.library.open();
    library.catch(() => undefined);
    await this.gallery.start();
    const loaded = await this.templates.reload();
    if (!loaded.ok) this.o.log.error('template presets have errors; none are offered until they are fixed (see above)');
    this.templates.watch();
    const inbound = {
      onRequest: (req: BotRequest) => this.intake.handle(req), onAction: (a: BotAction) => this.actions.handle(a),
      answersPrivately: (text: string) => this.subcommands.answersPrivately(text),
    };
    await library;
    for (const adapter of this.adapters.values()) await adapter.start(inbound);
    await this.deliver.start();
    this.indexWriter.start();
    await this.fastLane.start();
    this.tracker.start();
    this.settings.start();
    await this.scheduleRunner.start();
    this.obs.start();
    this.retention.start();
    this.port = await this.http.listen(config.env.PORT, listenHost(config.env));
    this.warnAboutExposure();
  }

  /**
   * Stop taking work: the HTTP port (Playground, webhooks, health) and the chat adapters close, schedules stop
   * firing. Deliveries go on until `stop` (`npm start` lets its worker finish first, so results still get posted).
   */
  stopIntake(deadline = this.defaultDeadline()): Promise<void> {
    this.intakeStopped ??= (async () => {
      await deadline.wait(this.http.close());
      this.settings.stop();
      this.templates.stop();
      for (const adapter of this.adapters.values()) await deadline.wait(adapter.stop());
      await deadline.wait(this.scheduleRunner.stop(!this.redisUp()));
    })();
    return this.intakeStopped;
  }

  /**
   * Stop within the shutdown bound (SHUTDOWN_TIMEOUT_MS unless a deadline is given), whether or not Redis is
   * reachable: intake first, then the tracker and the deliveries in flight, then the connections. A delivery
   * cut short is retried by the durable `deliver` job after the next start.
   */
  async stop(deadline = this.defaultDeadline()): Promise<void> {
    const work = deadline.earlier(CLOSE_MS);
    await this.stopIntake(work);
    await work.wait(this.tracker.stop());
    await work.wait(this.fastLane.stop());
    await work.wait(this.deliver.stop(!this.redisUp()));
    await work.wait(this.indexWriter.stop());
    await work.wait(this.library.close());
    await work.wait(this.obs.stop());
    await work.wait(this.retention.stop());
    this.quota.deferred.stop();
    this.watch.close();
    await work.wait(Promise.all([this.schedules.close(), this.queues.close()]));
    await closeRedis([this.redis, ...this.connections], deadline.remainingMs());
  }

  /** Whether Redis answered last time (decides whether closing waits for what is in flight). */
  private redisUp(): boolean {
    return this.redis.status === 'ready';
  }

  private defaultDeadline(): Deadline {
    return Deadline.in(this.o.config.env.SHUTDOWN_TIMEOUT_MS);
  }
}
