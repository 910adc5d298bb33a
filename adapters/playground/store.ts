/**
 * The Playground's channel: messages and threads kept in Redis (so a bot restart keeps the history and
 * several replicas share it), with changes fanned out over Redis pub/sub to every open page.
 */
import { randomBytes } from 'node:crypto';
import { randomHex } from '../../src/infra/random-ids.js';
import type { Redis } from 'ioredis';
import type { StatusView } from '../../src/chat/types.js';
import type { ImageMetadata } from '../../src/jobs/types.js';
import { LuaScript } from '../../src/infra/lua-script.js';
import { withoutLoneSurrogates } from '../../src/infra/lone-surrogates.js';

export const BOT_USER = 'zimage';


/** JSON for the Lua side: Redis's cjson refuses lone UTF-16 surrogates, so they become U+FFFD (as a browser shows them). */
function jsonOf(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' ? withoutLoneSurrogates(v) : v));
}

// Events are published as {"from":<writer>,"type":…,"message":…} with "from" first, so a bot can pass over its
// own events by their first bytes (see ownEventPrefix) without parsing them.
// KEYS: msgs, channel, events. ARGV: message JSON (with its id), thread id ('' = new thread), thread key prefix, writer.
// A message already stored under its id is left as it is (a retried post: see PlaygroundStore.add); a reply to a
// thread the history trim removed is not stored (false).
const ADD = new LuaScript(`
local msg = cjson.decode(ARGV[1])
local id = msg.id
local stored = redis.call('hget', KEYS[1], id)
if stored then return stored end
if ARGV[2] ~= '' and redis.call('exists', ARGV[3] .. ARGV[2]) == 0 then return false end
if ARGV[2] == '' then msg.threadId = id else msg.threadId = ARGV[2] end
local json = cjson.encode(msg)
redis.call('hset', KEYS[1], id, json)
redis.call('rpush', ARGV[3] .. msg.threadId, id)
if ARGV[2] == '' then redis.call('rpush', KEYS[2], id) end
redis.call('publish', KEYS[3], '{"from":' .. cjson.encode(ARGV[4]) .. ',"type":"message","message":' .. json .. '}')
return json`);

// KEYS: msgs, channel. ARGV: most messages kept, oldest thread start kept (epoch ms), thread key prefix, threads per call.
// Whole threads go, oldest first, while there are too many messages or the oldest thread is too old.
const TRIM = new LuaScript(`
local removed = 0
for i = 1, tonumber(ARGV[4]) do
  local id = redis.call('lindex', KEYS[2], 0)
  if not id then break end
  local raw = redis.call('hget', KEYS[1], id)
  local old = (not raw) or tonumber(cjson.decode(raw).createdAt) < tonumber(ARGV[2])
  if not old and redis.call('hlen', KEYS[1]) <= tonumber(ARGV[1]) then break end
  local ids = redis.call('lrange', ARGV[3] .. id, 0, -1)
  for _, mid in ipairs(ids) do redis.call('hdel', KEYS[1], mid) end
  redis.call('hdel', KEYS[1], id)
  redis.call('del', ARGV[3] .. id)
  redis.call('lpop', KEYS[2])
  removed = removed + math.max(#ids, 1)
end
return removed`);

/** How much history the channel keeps (README: PLAYGROUND_HISTORY_MAX / _DAYS). */
export interface HistoryLimits { maxMessages: number; maxAgeMs: number }

export const DEFAULT_HISTORY: HistoryLimits = Object.freeze({ maxMessages: 2000, maxAgeMs: 7 * 24 * 3600_000 });

// KEYS: msgs, events. ARGV: id, patch JSON, writer.
const UPDATE = new LuaScript(`
local raw = redis.call('hget', KEYS[1], ARGV[1])
if not raw then return false end
local msg = cjson.decode(raw)
for k, v in pairs(cjson.decode(ARGV[2])) do msg[k] = v end
local json = cjson.encode(msg)
redis.call('hset', KEYS[1], ARGV[1], json)
redis.call('publish', KEYS[2], '{"from":' .. cjson.encode(ARGV[3]) .. ',"type":"update","message":' .. json .. '}')
return json`);

export interface PlaygroundMessage {
  id: string;
  threadId: string;
  /** The speaker's identity (normalised name; `zimage` for the bot). */
  user: string;
  /** The name as they wrote it. */
  userName?: string;
  text: string;
  createdAt: number;
  updatedAt?: number;
  /** Present on bot status messages: the structured state, for the page's progress display. */
  status?: StatusView;
  imageUrl?: string;
  metadata?: ImageMetadata;
  /** Label/value pairs shown under an image, in the requester's language. */
  fields?: Array<{ label: string; value: string }>;
  /** A private reply: shown only to the browser session that holds this (normalised) name. */
  privateTo?: string;
  /** An image file that is not a job result (the usage chart), served at `url`. */
  file?: { url: string; name: string; title: string };
}

/**
 * A new message id, made here rather than in Redis so that a command can be handled while its message is
 * being stored: time-ordered (base 36 milliseconds) and unique across bot replicas (random tail).
 */
export function newMessageId(): string {
  return `m${Date.now().toString(36)}${randomHex(4)}`;
}

export interface PlaygroundEvent {
  /** `remove`: a message shown on this bot's pages could not be stored after all. */
  type: 'message' | 'update' | 'remove';
  message: PlaygroundMessage;
  /** The store instance that wrote it (it has shown it to its own pages already). */
  from?: string;
}

export class PlaygroundStore {
  /** This process's writer id: its own changes reach its pages directly, other replicas' through pub/sub. */
  readonly writer = randomBytes(6).toString('hex');
  /** How this process's own events begin on the events channel (they are not parsed again). */
  readonly ownEventPrefix = `{"from":"${this.writer}",`;
  /**
   * Called with each change this instance makes: a new message as its write goes out (it cannot conflict with
   * anything), then `remove` if the write fails; an update once Redis has merged it.
   */
  onWritten: ((ev: PlaygroundEvent) => void) | undefined;

  private readonly k: { msgs: string; channel: string; events: string; thread: (id: string) => string };

  private readonly fileKey: (id: string) => string;

  constructor(private readonly redis: Redis, prefix: string, private readonly history: HistoryLimits = DEFAULT_HISTORY) {
    const root = `${prefix}:playground`;
    this.k = {
      msgs: `${root}:msgs`, channel: `${root}:channel`, events: `${root}:events`,
      thread: (id) => `${root}:thread:${id}`,
    };
    this.fileKey = (id) => `${root}:file:${id}`;
  }

  /** Keep a posted image file's bytes as long as the history keeps messages; returns its id (`<random>.<ext>`). */
  async putFile(bytes: Buffer, ext: 'png' | 'jpg' | 'webp'): Promise<string> {
    const id = `${randomBytes(16).toString('base64url')}.${ext}`;
    await this.redis.set(this.fileKey(id), bytes, 'PX', this.history.maxAgeMs);
    return id;
  }

  async file(id: string): Promise<Buffer | null> {
    return /^[A-Za-z0-9_-]{22}\.(png|jpg|webp)$/.test(id) ? this.redis.getBuffer(this.fileKey(id)) : null;
  }

  get eventsChannel(): string { return this.k.events; }

  /**
   * Add a message (under `id` when the caller made one with newMessageId, or a stable id for a post that may
   * be retried: adding an id that is stored already changes nothing); without threadId it starts a new thread
   * (its own id becomes the thread id). One round trip, and this bot's pages see the message while it is
   * being stored, as a chat client shows a sent message at once (pages of other replicas once it is stored).
   */
  async add(m: Omit<PlaygroundMessage, 'id' | 'threadId' | 'createdAt'> & { id?: string; threadId?: string }): Promise<PlaygroundMessage> {
    const id = m.id ?? newMessageId();
    const body = jsonOf({ ...m, id, createdAt: Date.now() });
    const write = ADD.run(this.redis, 3, this.k.msgs, this.k.channel, this.k.events,
      body, m.threadId ?? '', this.k.thread(''), this.writer) as Promise<string | null>;
    const shown = { ...(JSON.parse(body) as PlaygroundMessage), threadId: m.threadId ?? id };
    this.onWritten?.({ type: 'message', message: shown });
    let raw: string | null;
    try {
      raw = await write;
    } catch (err) {
      this.onWritten?.({ type: 'remove', message: shown });
      throw err;
    }
    if (raw === null) {
      // The thread was trimmed from the history meanwhile: nothing to show it in.
      this.onWritten?.({ type: 'remove', message: shown });
      return shown;
    }
    return JSON.parse(raw) as PlaygroundMessage;
  }

  /** Drop the oldest threads beyond the history limits; returns how many messages went. */
  async trim(now = Date.now()): Promise<number> {
    let total = 0;
    for (;;) {
      const n = Number(await TRIM.run(this.redis, 2, this.k.msgs, this.k.channel,
        String(this.history.maxMessages), String(now - this.history.maxAgeMs), this.k.thread(''), '200'));
      total += n;
      if (n === 0) return total;
    }
  }

  /** Merge a patch into a message and announce it. One round trip; null when there is no such message. */
  async update(id: string, patch: Partial<Omit<PlaygroundMessage, 'id' | 'threadId' | 'createdAt' | 'user'>>): Promise<PlaygroundMessage | null> {
    const raw = (await UPDATE.run(this.redis, 2, this.k.msgs, this.k.events, id, jsonOf({ ...patch, updatedAt: Date.now() }), this.writer)) as string | null;
    if (!raw) return null;
    const message = JSON.parse(raw) as PlaygroundMessage;
    this.onWritten?.({ type: 'update', message });
    return message;
  }

  async get(id: string): Promise<PlaygroundMessage | null> {
    const raw = await this.redis.hget(this.k.msgs, id);
    return raw ? (JSON.parse(raw) as PlaygroundMessage) : null;
  }

  async thread(threadId: string): Promise<PlaygroundMessage[] | null> {
    const ids = await this.redis.lrange(this.k.thread(threadId), 0, -1);
    if (ids.length === 0) return null;
    const raws = await this.redis.hmget(this.k.msgs, ...ids);
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as PlaygroundMessage);
  }

  /** The newest top-level messages (oldest first), each with its reply count. */
  async channel(limit = 100): Promise<Array<PlaygroundMessage & { replies: number }>> {
    const ids = await this.redis.lrange(this.k.channel, -limit, -1);
    if (ids.length === 0) return [];
    const raws = await this.redis.hmget(this.k.msgs, ...ids);
    const counts = await Promise.all(ids.map((id) => this.redis.llen(this.k.thread(id))));
    return raws.flatMap((r, i) => (r ? [{ ...(JSON.parse(r) as PlaygroundMessage), replies: Math.max(0, counts[i]! - 1) }] : []));
  }
}
