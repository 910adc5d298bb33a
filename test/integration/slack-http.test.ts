import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerApp } from '../../worker/worker-app.js';
import { BOT_USER, buttonClick as buttonClickOf, mentionEvent, signedHeaders, slashCommand, TEAM } from '../helpers/fake-slack.js';
import { startBot, startWorker } from '../helpers/harness.js';
import { FORM, jobIdOf, startSlackBot, type SlackTestBot } from '../helpers/slack-bot.js';

let s: SlackTestBot | undefined;
let worker: WorkerApp | undefined;
afterEach(async () => {
  await worker?.stop();
  await s?.close();
  worker = undefined;
  s = undefined;
});

describe('Slack over HTTP: /slack/events on the bot port', () => {
  it('a signed slash command: fast ack, thread parent, one status message kept current, PNG uploaded into the thread, buttons', async () => {
    s = await startSlackBot();
    const { fake } = s;
    worker = await startWorker(s.t);
    const started = Date.now();
    // Slack escapes &, < and > in the command text it sends.
    const res = await s.send(slashCommand('a ginger cat &amp; a &lt;b&gt;dog&lt;/b&gt; --seed 7 --size 256x256 --steps 2'), FORM);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(Date.now() - started).toBeLessThan(1500);

    const parent = await fake.waitFor('thread parent', () => fake.posts()[0]);
    expect(parent.body.channel).toBe('C0CHAN');
    expect(parent.body.text).toContain('<@U0ANN>');
    // The prompt is shown as data: Slack's control characters escaped.
    expect(parent.body.blocks).toContain('a ginger cat &amp; a &lt;b&gt;dog&lt;/b&gt;');
    const parentTs = String(parent.reply!.ts);

    const done = await fake.waitFor('final edit', () => fake.of('chat.update').find((c) => c.body.text.startsWith('Done')));
    const status = fake.posts(parentTs).find((c) => c.body.blocks.includes('zimage_cancel'))!;
    expect(status).toBeDefined();
    const jobId = jobIdOf(status.body.blocks);
    expect((await s.bot.queues.generate.getJob(jobId))!.data.params.prompt).toBe('a ginger cat & a <b>dog</b>');
    expect(done.body.ts).toBe(status.reply!.ts);
    expect(done.body.channel).toBe('C0CHAN');
    expect(done.body.blocks).not.toContain('zimage_cancel');
    // Every edit went to that one status message.
    expect(new Set(fake.of('chat.update').map((c) => c.body.ts))).toEqual(new Set([status.reply!.ts]));

    // files.uploadV2: URL, bytes, complete into the parent's thread.
    const [getUrl] = fake.of('files.getUploadURLExternal');
    const [complete] = fake.of('files.completeUploadExternal');
    expect(getUrl!.body.filename).toBe(`${jobId}-0.png`);
    expect(Number(getUrl!.body.length)).toBeGreaterThan(100);
    expect(fake.uploads).toHaveLength(1);
    expect(fake.uploads[0]!.bytes).toBeGreaterThan(Number(getUrl!.body.length));
    expect(complete!.body).toMatchObject({ channel_id: 'C0CHAN', thread_ts: parentTs });
    expect(JSON.parse(complete!.body.files!)[0].id).toBe((getUrl!.reply as { file_id: string }).file_id);
    expect(getUrl!.at).toBeLessThanOrEqual(fake.uploads[0]!.at);
    expect(fake.uploads[0]!.at).toBeLessThanOrEqual(complete!.at);

    // The metadata + buttons message follows the upload in the same thread.
    const result = await fake.waitFor('result message', () => fake.posts(parentTs).find((c) => c.body.blocks.includes('zimage_regenerate')));
    expect(result.at).toBeGreaterThanOrEqual(complete!.at);
    expect(result.body.blocks).toContain('zimage_variations');
    expect(jobIdOf(result.body.blocks)).toBe(jobId);
    for (const v of ['Seed*\\n7', '256×256', 'demo model', jobId]) expect(result.body.blocks).toContain(v);
    expect(fake.unmatched).toEqual([]);
    expect(await s.bot.queues.generate.getJobCounts('completed')).toEqual({ completed: 1 });
  });

  it('status edits show falling positions while jobs ahead finish', async () => {
    s = await startSlackBot({ DEMO_STEP_DELAY_MS: '150' }, { status: { minEditIntervalMs: { slack: 150 }, editsPerMinute: { slack: 600 } } });
    const { fake } = s;
    for (const p of ['one', 'two', 'three']) await s.send(slashCommand(`${p} --size 256x256 --steps 4`), FORM);
    await fake.waitFor('three status messages', () => fake.of('chat.postMessage').filter((c) => c.body.thread_ts).length === 3 || undefined);
    const third = fake.of('chat.postMessage').filter((c) => c.body.thread_ts).find((c) => c.body.text.includes('position 3'))!;
    expect(third).toBeDefined();
    // One job at a time, so the line moves one place per finished job.
    worker = await startWorker(s.t, { WORKER_CONCURRENCY: '1' });
    await fake.waitFor('third job done', () => fake.of('chat.update').find((c) => c.body.ts === third.reply!.ts && c.body.text.startsWith('Done')));
    const texts = fake.of('chat.update').filter((c) => c.body.ts === third.reply!.ts).map((c) => c.body.text);
    const positions = texts.map((x) => /position (\d+)/.exec(x)?.[1]).filter((x) => x !== undefined).map(Number);
    expect(positions.length, JSON.stringify(texts)).toBeGreaterThanOrEqual(2);
    expect(positions).toEqual([...positions].sort((a, b) => b - a));
    expect(positions.at(-1)).toBeLessThan(3);
    expect(texts.some((x) => x.startsWith('Generating'))).toBe(true);
  });

  it('app_mention: the mention is stripped and the answer goes into the mention’s thread', async () => {
    s = await startSlackBot();
    const { fake } = s;
    const ev = mentionEvent('a lighthouse at dusk --size 256x256', { ts: '1700000200.000100' });
    const res = await s.sendEvent(ev);
    expect(res.status).toBe(200);
    const status = await fake.waitFor('status in the mention thread', () => fake.posts('1700000200.000100')[0]);
    expect(status.body.channel).toBe('C0CHAN');
    expect(fake.posts()).toEqual([]); // no new channel message for a mention
    const job = await s.bot.queues.generate.getJob(jobIdOf(status.body.blocks));
    expect(job!.data.params.prompt).toBe('a lighthouse at dusk');
    expect(job!.data.origin).toMatchObject({ platform: 'slack', workspace: TEAM, user: 'U0BEN', thread: `slack:${TEAM}:C0CHAN:1700000200.000100` });
  });

  it('a mention inside a thread answers in that thread', async () => {
    s = await startSlackBot();
    const { fake } = s;
    await s.sendEvent(mentionEvent('more please --size 256x256', { ts: '1700000300.000200', threadTs: '1700000300.000001' }));
    const status = await fake.waitFor('status', () => fake.posts('1700000300.000001')[0]);
    expect(status).toBeDefined();
  });

  it('the same event_id delivered three times (Slack retries) makes one job', async () => {
    s = await startSlackBot();
    const { fake } = s;
    const ev = mentionEvent('retried --size 256x256', { eventId: 'Ev0RETRY', ts: '1700000150.000100' });
    const replies = [
      await s.sendEvent(ev),
      await s.sendEvent(ev, { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' }),
      await s.sendEvent(ev, { 'x-slack-retry-num': '2', 'x-slack-retry-reason': 'http_timeout' }),
    ];
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
    // Positive control, sent after the retries were acknowledged: two separate slash commands are two jobs. They take
    // the same path behind the retries (and a longer one), so by the time both have their status messages, a retry
    // that was not recognised would have posted and queued too.
    await s.send(slashCommand('first --size 256x256'), FORM);
    await s.send(slashCommand('first --size 256x256'), FORM);
    await fake.waitFor('both commands’ status messages', () => {
      const parents = fake.posts();
      return (parents.length === 2 && parents.every((p) => fake.posts(String(p.reply!.ts)).length === 1)) || undefined;
    });
    expect(fake.posts('1700000150.000100')).toHaveLength(1);
    expect(fake.of('chat.postMessage')).toHaveLength(5); // the mention's status; each command's parent and status
    expect(await s.bot.queues.generate.count()).toBe(3);
  });

  it.each([
    ['a forged signature', (b: string) => ({ ...signedHeaders(b, FORM, { secret: 'not-the-secret-at-all' }) })],
    ['no signature', () => ({ 'content-type': FORM, 'x-slack-signature': '', 'x-slack-request-timestamp': '' })],
    ['a timestamp older than 5 minutes', (b: string) => signedHeaders(b, FORM, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 })],
    ['a timestamp an hour in the future', (b: string) => signedHeaders(b, FORM, { timestamp: Math.floor(Date.now() / 1000) + 3600 })],
    ['a timestamp six minutes in the future', (b: string) => signedHeaders(b, FORM, { timestamp: Math.floor(Date.now() / 1000) + 6 * 60 })],
    ['a body changed after signing', (b: string) => signedHeaders(`${b}x`, FORM)],
  ])('%s → 401 and no job', async (_name, headers) => {
    s = await startSlackBot();
    const body = slashCommand('sneaky --size 256x256');
    const res = await s.send(body, FORM, headers(body));
    expect(res.status).toBe(401);
    // Positive control, sent after the refusal: a correctly signed command gets its parent, its status message and
    // its job. Once it has them, anything the refused one had set off would be there too.
    expect((await s.send(slashCommand('honest --size 256x256'), FORM)).status).toBe(200);
    await s.fake.waitFor('the signed command’s status message', () => s!.fake.of('chat.postMessage').find((c) => c.body.blocks.includes('zimage_cancel')));
    expect(s.fake.calls.filter((c) => JSON.stringify(c.body).includes('sneaky'))).toEqual([]);
    expect(s.fake.posts().map((c) => c.body.blocks.includes('honest'))).toEqual([true]); // one thread parent: the signed one's
    expect((await s.bot.queues.generate.getJobs(['waiting', 'prioritized'])).map((j) => j.data.params.prompt)).toEqual(['honest']);
  });

  it('a captured slash command replayed within the signature window posts nothing: one parent, one job', async () => {
    s = await startSlackBot();
    const { fake } = s;
    const body = slashCommand('replayed --size 256x256');
    const headers = signedHeaders(body, FORM);
    for (let i = 0; i < 4; i++) expect((await s.send(body, FORM, headers)).status).toBe(200);
    // Positive control, sent after the replays: a new command gets its parent and its status message.
    await s.send(slashCommand('fresh --size 256x256'), FORM);
    await fake.waitFor('both status messages', () => fake.of('chat.postMessage').filter((c) => c.body.thread_ts).length === 2 || undefined);
    const parents = fake.of('chat.postMessage').filter((c) => !c.body.thread_ts);
    expect(parents).toHaveLength(2);
    expect(parents[0]!.body.blocks).toContain('replayed');
    expect(parents[1]!.body.blocks).toContain('fresh');
    expect(await s.bot.queues.generate.count()).toBe(2);
  });

  it('a burst of commands is acknowledged while their thread parents are still being posted, a few at a time', async () => {
    s = await startSlackBot();
    const { fake } = s;
    // Thread parents (channel messages without thread_ts) wait until released: none can be posted yet.
    const parents = fake.hold('chat.postMessage', (b) => !b.thread_ts);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => s!.send(slashCommand(`burst ${i} --size 256x256`, { user: `U0P${i}` }), FORM)));
    expect(answers.map((r) => r.status)).toEqual(Array(12).fill(200));
    await fake.waitFor('parents in flight', () => parents.inFlight() === 4 || undefined);
    parents.release();
    await fake.waitFor('twelve status messages', () => fake.of('chat.postMessage').filter((c) => c.body.thread_ts).length === 12 || undefined);
    // The work after the acks runs a few at a time (so it does not take the event loop from later acks).
    expect(parents.maxInFlight()).toBe(4);
    expect(fake.posts()).toHaveLength(12);
    expect(await s.bot.queues.generate.count()).toBe(12);
  });

  it('url_verification is answered with the challenge (signed)', async () => {
    s = await startSlackBot();
    const res = await s.sendEvent({ type: 'url_verification', token: 'x', challenge: 'c-123' });
    expect(await res.json()).toEqual({ challenge: 'c-123' });
  });

  it('not_in_channel: the person gets an ephemeral explanation and nothing is queued', async () => {
    s = await startSlackBot();
    const { fake } = s;
    fake.fail('chat.postMessage', { error: 'not_in_channel' });
    const res = await s.send(slashCommand('a cat --size 256x256', { channel: 'G0PRIV' }), FORM);
    expect(res.status).toBe(200);
    const hook = await fake.waitFor('ephemeral explanation', () => fake.hooks[0]);
    expect(hook.body).toMatchObject({ response_type: 'ephemeral' });
    expect(String(hook.body.text)).toContain('/invite @zimage');
    expect(await s.bot.queues.generate.count()).toBe(0);
  });

  it('Slack failing the thread parent and its one retry (503): the person is told privately to try again; nothing is queued', async () => {
    s = await startSlackBot();
    s.fake.fail('chat.postMessage', { status: 503 }, 2);
    await s.send(slashCommand('a cat --size 256x256'), FORM);
    const hook = await s.fake.waitFor('the private note', () => s!.fake.hooks[0], 15_000);
    expect(hook.body).toMatchObject({ response_type: 'ephemeral' });
    expect(String(hook.body.text)).toMatch(/try again/i);
    expect(s.fake.requests('chat.postMessage').map((r) => r.status)).toEqual([503, 503]);
    expect(await s.bot.queues.generate.count()).toBe(0);
  });

  it('an archived channel: the explanation says so', async () => {
    s = await startSlackBot();
    s.fake.fail('chat.postMessage', { error: 'is_archived' });
    await s.send(slashCommand('a cat'), FORM);
    const hook = await s.fake.waitFor('ephemeral explanation', () => s!.fake.hooks[0]);
    expect(String(hook.body.text)).toContain('archived');
  });

  it('/zimage with no text opens the modal; its submission becomes a normal request', async () => {
    s = await startSlackBot();
    const { fake } = s;
    await s.send(slashCommand('', { trigger: 'trgMODAL' }), FORM);
    const open = await fake.waitFor('views.open', () => fake.of('views.open')[0]);
    expect(open.body.trigger_id).toBe('trgMODAL');
    const view = JSON.parse(open.body.view!) as { callback_id: string; private_metadata: string; blocks: Array<{ block_id: string }> };
    expect(view.blocks.map((b) => b.block_id)).toEqual(['prompt', 'size', 'steps', 'seed', 'count']);
    const res = await s.sendInteraction({
      type: 'view_submission', team: { id: TEAM, domain: 'test' }, user: { id: 'U0ANN', username: 'ann', name: 'ann', team_id: TEAM },
      api_app_id: 'A0APP', token: 'legacy', trigger_id: 'trgSUBMIT',
      view: {
        id: 'V0MODAL', type: 'modal', callback_id: view.callback_id, private_metadata: view.private_metadata, team_id: TEAM, hash: 'h',
        state: { values: {
          prompt: { value: { type: 'plain_text_input', value: 'a paper crane --seed 3' } },
          size: { value: { type: 'static_select', selected_option: { value: '512x512' } } },
          steps: { value: { type: 'number_input', value: '3' } },
          seed: { value: { type: 'number_input', value: '42' } },
          count: { value: { type: 'static_select', selected_option: { value: '2' } } },
        } },
      },
    });
    expect(res.status).toBe(200);
    const parent = await fake.waitFor('thread parent', () => fake.posts()[0]);
    const status = await fake.waitFor('status', () => fake.posts(String(parent.reply!.ts))[0]);
    const job = await s.bot.queues.generate.getJob(jobIdOf(status.body.blocks));
    expect(job!.data.params).toMatchObject({ prompt: 'a paper crane --seed 3', width: 512, height: 512, steps: 3, seed: 42, count: 2 });
  });

  it('buttons: cancel (requester only) and regenerate arrive as block_actions and answer the clicker ephemerally', async () => {
    s = await startSlackBot();
    const { fake } = s;
    await s.send(slashCommand('a queued fox --size 256x256', { user: 'U0ANN' }), FORM);
    const parent = await fake.waitFor('parent', () => fake.posts()[0]);
    const threadTs = String(parent.reply!.ts);
    const status = await fake.waitFor('status', () => fake.posts(threadTs)[0]);
    const jobId = jobIdOf(status.body.blocks);
    const click = { threadTs, messageTs: String(status.reply!.ts) };

    expect((await s.sendInteraction(buttonClickOf('cancel', jobId, { ...click, user: 'U0BEN' }))).status).toBe(200);
    const refused = await fake.waitFor('refusal', () => fake.hooks[0]);
    expect(refused.body).toMatchObject({ response_type: 'ephemeral', replace_original: false, text: 'Only the person who asked for this image can cancel it.' });
    expect(await s.bot.queues.generate.count()).toBe(1);

    await s.sendInteraction(buttonClickOf('regenerate', jobId, { ...click, user: 'U0BEN' }));
    const regen = await fake.waitFor('regenerate answer', () => fake.hooks[1]);
    expect(regen.body.text).toBe('Queued the same prompt with a new seed.');
    const second = await fake.waitFor('second status in the same thread', () => fake.posts(threadTs)[1]);
    expect(jobIdOf(second.body.blocks)).not.toBe(jobId);

    await s.sendInteraction(buttonClickOf('cancel', jobId, click));
    const ok = await fake.waitFor('cancel answer', () => fake.hooks[2]);
    expect(ok.body.text).toBe('Cancelled — it left the line.');
    const edit = await fake.waitFor('cancelled status', () => fake.of('chat.update').find((c) => c.body.ts === status.reply!.ts && c.body.text === 'Cancelled'));
    expect(edit.body.blocks).not.toContain('zimage_cancel');
    expect(await s.bot.queues.generate.count()).toBe(1);
  });

  it('a finished job’s Regenerate button still works after the bot restarts', async () => {
    s = await startSlackBot();
    const { fake } = s;
    worker = await startWorker(s.t);
    await s.send(slashCommand('a lantern --size 256x256 --steps 2'), FORM);
    const parent = await fake.waitFor('parent', () => fake.posts()[0]);
    const threadTs = String(parent.reply!.ts);
    const result = await fake.waitFor('result message', () => fake.posts(threadTs).find((c) => c.body.blocks.includes('zimage_regenerate')));
    await s.bot.stop();
    s.bot = await startBot(s.t);
    const res = await s.sendInteraction(buttonClickOf('regenerate', jobIdOf(result.body.blocks), { threadTs, messageTs: String(result.reply!.ts), user: 'U0BEN' }));
    expect(res.status).toBe(200);
    const hook = await fake.waitFor('answer', () => fake.hooks[0]);
    expect(hook.body.text).toBe('Queued the same prompt with a new seed.');
    const statuses = await fake.waitFor('second job done in the same thread', () => {
      const done = fake.of('chat.update').filter((c) => c.body.text.startsWith('Done'));
      return done.length === 2 ? done : undefined;
    });
    expect(new Set(statuses.map((c) => c.body.ts)).size).toBe(2);
    expect(fake.of('files.completeUploadExternal').map((c) => c.body.thread_ts)).toEqual([threadTs, threadTs]);
  });

  it('a 429 on chat.update is retried after Retry-After and the final state still lands', async () => {
    s = await startSlackBot();
    const { fake } = s;
    fake.fail('chat.update', { status: 429, headers: { 'retry-after': '2' } });
    worker = await startWorker(s.t);
    await s.send(slashCommand('rate limited --size 256x256 --steps 2'), FORM);
    const limited = await fake.waitFor('the 429', () => fake.calls.find((c) => c.method === 'chat.update' && c.status === 429));
    const done = await fake.waitFor('final edit', () => fake.of('chat.update').find((c) => c.body.text.startsWith('Done')));
    const next = fake.calls.find((c) => c.method === 'chat.update' && c.at > limited.at)!;
    expect(next.at - limited.at).toBeGreaterThanOrEqual(1900);
    expect(done.body.ts).toBe(limited.body.ts);
    expect(fake.calls.filter((c) => c.method === 'chat.update' && c.status === 429)).toHaveLength(1);
  });

  it('a 429 comes back to the tracker at once as RATE_LIMITED (no waiting inside the WebClient), and pauses that workspace', async () => {
    s = await startSlackBot();
    const { fake } = s;
    const adapter = s.bot.adapters.get('slack')!;
    fake.fail('chat.update', { status: 429, headers: { 'retry-after': '30' } });
    const view = { phase: 'queued', jobId: 'j1', position: 1, total: 1, etaMs: null } as const;
    const started = Date.now();
    const err = await adapter.updateStatus(`slack:${TEAM}:C0CHAN:1700000000.000001`, view, 'en').catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(err).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 30_000 });
    const again = await adapter.updateStatus(`slack:${TEAM}:C0OTHER:1700000000.000002`, view, 'en').catch((e: unknown) => e);
    expect(again).toMatchObject({ code: 'RATE_LIMITED' });
    expect((again as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(28_000);
    expect(fake.calls.filter((c) => c.method === 'chat.update')).toHaveLength(1);
  });

  it('user groups (for directory-bound roles) come from one usergroups.list per workspace, as ids and handles', async () => {
    s = await startSlackBot();
    const { fake } = s;
    fake.usergroups = [
      { id: 'S0DES', handle: 'design', users: ['U0ANN', 'U0BEN'] },
      { id: 'S0OPS', handle: 'ops', users: ['U0BEN'] },
    ];
    const adapter = s.bot.adapters.get('slack')!;
    expect(await adapter.userGroups!(TEAM, 'U0ANN')).toEqual(['S0DES', 'design']);
    expect(await adapter.userGroups!(TEAM, 'U0BEN')).toEqual(['S0DES', 'design', 'S0OPS', 'ops']);
    expect(await adapter.userGroups!(TEAM, 'U0NOBODY')).toEqual([]);
    expect(fake.of('usergroups.list')).toHaveLength(1);
    expect(fake.of('usergroups.list')[0]!.body).toMatchObject({ include_users: 'true', team_id: TEAM });
  });

  it('startThread (scheduled runs) posts a channel message and returns its thread reference', async () => {
    s = await startSlackBot();
    const { fake } = s;
    const ref = await s.bot.adapters.get('slack')!.startThread!(TEAM, 'C0CHAN', 'Daily picture: <lighthouses>');
    const [parent] = fake.posts();
    expect(ref).toBe(`slack:${TEAM}:C0CHAN:${String(parent!.reply!.ts)}`);
    expect(parent!.body.text).toBe('Daily picture: &lt;lighthouses&gt;');
    fake.fail('chat.postMessage', { error: 'is_archived' });
    await expect(s.bot.adapters.get('slack')!.startThread!(TEAM, 'C0CHAN', 'x')).rejects.toMatchObject({ code: 'CANNOT_POST' });
  });

  it('a 500 on the upload is retried and the image is delivered once', async () => {
    s = await startSlackBot();
    const { fake } = s;
    fake.failUpload(500);
    worker = await startWorker(s.t);
    await s.send(slashCommand('flaky upload --size 256x256 --steps 2'), FORM);
    await fake.waitFor('final edit', () => fake.of('chat.update').find((c) => c.body.text.startsWith('Done')), 45_000);
    expect(fake.uploads.map((u) => u.status)).toEqual([500, 200]);
    expect(fake.of('files.completeUploadExternal')).toHaveLength(1);
    expect(fake.of('chat.postMessage').filter((c) => c.body.blocks?.includes('zimage_regenerate'))).toHaveLength(1);
  });

  it('60 queued jobs in one workspace: chat.update spread at 45 a minute (3 at once, then one per 1.3 s), front of the line first', async () => {
    s = await startSlackBot();
    const { fake } = s;
    const sends = Array.from({ length: 60 }, (_, i) => s!.sendEvent(mentionEvent(`job ${i} --size 256x256`, { user: `U0USER${i}` })));
    expect((await Promise.all(sends)).every((r) => r.status === 200)).toBe(true);
    await fake.waitFor('60 status messages', () => fake.of('chat.postMessage').length === 60 || undefined);
    await new Promise((r) => setTimeout(r, 4000)); // past one edit interval: only the workspace budget holds edits back
    const edits = fake.of('chat.update');
    // The budget starts accruing when the tracker first sees a posted status message.
    const seconds = (Date.now() - Math.min(...fake.of('chat.postMessage').map((c) => c.at))) / 1000 + 0.5;
    expect(edits.length).toBeGreaterThanOrEqual(3);
    expect(edits.length).toBeLessThanOrEqual(3 + Math.ceil(seconds * 0.75));
    const positions = edits.map((c) => Number(/position (\d+)/.exec(c.body.text)?.[1]));
    expect(Math.max(...positions)).toBeLessThanOrEqual(edits.length + 2);
  });

  it('a direct message to the bot is a command, answered in its thread', async () => {
    s = await startSlackBot();
    const { fake } = s;
    await s.sendEvent({
      token: 'legacy', team_id: TEAM, api_app_id: 'A0APP', type: 'event_callback', event_id: 'Ev0DM', event_time: 1,
      event: { type: 'message', channel_type: 'im', channel: 'D0DM', user: 'U0ANN', text: 'a quiet harbour --size 256x256', ts: '1700000500.000001' },
    });
    const status = await fake.waitFor('status in the DM thread', () => fake.posts('1700000500.000001')[0]);
    expect(status.body.channel).toBe('D0DM');
    const job = await s.bot.queues.generate.getJob(jobIdOf(status.body.blocks));
    expect(job!.data.params.prompt).toBe('a quiet harbour');
  });

  it('the bot’s own mention of itself elsewhere is ignored; other users’ mentions reach the model as names', async () => {
    s = await startSlackBot();
    const { fake } = s;
    await s.sendEvent(mentionEvent(`a portrait of <@U0CAROL|carol> --size 256x256`));
    const status = await fake.waitFor('status', () => fake.of('chat.postMessage')[0]);
    const job = await s.bot.queues.generate.getJob(jobIdOf(status.body.blocks));
    expect(job!.data.params.prompt).toBe('a portrait of @carol'); // people in a prompt reach the model by name
    expect(job!.data.params.prompt).not.toContain(BOT_USER);
  });
});
