/** The load benchmark's markdown: the seed guide's table (same rows and layout) with our column, then every scenario. */
import { cpus } from 'node:os';
import type { BurstResult } from './burst.js';
import type { ScenarioResult } from './load.js';

interface Report { at: string; machine: { cpus: number; cpuModel: string; memGb: number; node: string }; warmupS: number; results: ScenarioResult[]; bursts?: BurstResult[] }

const ms = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`);
const pct = (x: number): string => `${(x * 100).toFixed(x > 0 && x < 0.01 ? 2 : 1)} %`;
const change = (seed: number, ours: number): string => {
  if (seed === 0) return '–';
  const d = (ours - seed) / seed;
  return `${d >= 0 ? '+' : ''}${Math.round(d * 100)} %`;
};

export function renderMarkdown(r: Report): string {
  const res = r.results;
  const lines: string[] = [];
  lines.push(`# Load benchmark — ${r.at}`, '');
  lines.push(`Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memGb} GB, Node ${r.machine.node}. Everything on 127.0.0.1: redis-server, the bot, the workers and the load generator share the machine. ${r.warmupS > 0 ? `Ack latency and overhead are measured on the commands sent after each scenario's first ${r.warmupS} s (fresh processes warming up); every other figure counts every command.` : 'Every figure counts every command, from the first (cold processes included).'}`, '');
  if (res.length) sustained(lines, res);
  if (r.bursts?.length) burstSection(lines, r.bursts);
  const errs = [...res, ...(r.bursts ?? [])].flatMap((x) => x.errors.map((e) => `${x.scenario.name}: ${e}`));
  if (errs.length) lines.push('', 'First errors:', ...errs.slice(0, 10).map((e) => `- ${e}`));
  return `${lines.join('\n')}\n`;
}

/** The sustained-load scenarios: the guide's table, every scenario, the goals. */
function sustained(lines: string[], res: ScenarioResult[]): void {
  const by = (users: number, engine = 'synthetic'): ScenarioResult | undefined => res.find((x) => x.scenario.users === users && x.scenario.engine === engine);
  const twenty = by(20) ?? res[0];
  const stable = res.filter((x) => x.failures === 0);
  const maxStable = stable.length ? Math.max(...stable.map((x) => x.maxInFlight)) : 0;
  const worstFail = res.length ? Math.max(...res.map((x) => x.failureRate)) : 0;
  lines.push('## Against the deployment guide (20 simulated users)', '');
  lines.push('| 指标 Metric | 优化前 Seed before | 优化后 Seed after | zimage-bot | vs. seed after |', '|---|---|---|---|---|');
  lines.push(`| 最大稳定并发数 Max stable concurrency (requests in flight, 0 failures) | 6 | 28 | ${maxStable} | ${change(28, maxStable)} |`);
  if (twenty?.e2eMs.mean != null) lines.push(`| 平均响应时间(首图) Mean response, command → first image (${twenty.scenario.users} users) | 4.2 s | 2.1 s | ${ms(twenty.e2eMs.mean)} | ${change(2100, twenty.e2eMs.mean)} |`);
  lines.push(`| 请求失败率 Failure rate (worst scenario) | 38 % | 0.2 % | ${pct(worstFail)} | ${worstFail === 0 ? '−100 %' : change(0.002, worstFail)} |`);
  lines.push('| GPU显存峰值占用 Peak GPU memory | 14.8 GB | 13.1 GB | n/a (no GPU here; `/metrics` and `/status` report it from nvidia-smi) | – |');
  if (twenty?.waitMs.mean != null) lines.push(`| 用户平均等待时间 Mean user wait, in line before a worker starts (${twenty.scenario.users} users) | 18.3 s | 3.7 s | ${ms(twenty.waitMs.mean)} | ${change(3700, twenty.waitMs.mean)} |`);
  lines.push('', 'Engine: a synthetic engine with a fixed 1 s per image (clearly not a model; it stands in for a GPU) unless the row says "demo model".', '');
  lines.push('## Every scenario', '');
  const head = ['', ...res.map((x) => x.scenario.name)];
  const row = (label: string, f: (x: ScenarioResult) => string): string => `| ${label} | ${res.map(f).join(' | ')} |`;
  lines.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
  lines.push(row('requests (completed / sent)', (x) => `${x.completed} / ${x.requests}`));
  lines.push(row('failure rate', (x) => pct(x.failureRate)));
  lines.push(row('ack latency p50 / p95 / p99 / max', (x) => `${ms(x.ackMs.p50)} / ${ms(x.ackMs.p95)} / ${ms(x.ackMs.p99)} / ${ms(x.ackMs.max)}`));
  lines.push(row('command → image, mean / p95', (x) => `${ms(x.e2eMs.mean)} / ${ms(x.e2eMs.p95)}`));
  lines.push(row('user wait in line, mean / p95', (x) => `${ms(x.waitMs.mean)} / ${ms(x.waitMs.p95)}`));
  lines.push(row('engine time per job, mean', (x) => ms(x.engineMs.mean)));
  lines.push(row('orchestration overhead per job p50 / p95 / p99 / max', (x) => `${ms(x.overheadMs.p50)} / ${ms(x.overheadMs.p95)} / ${ms(x.overheadMs.p99)} / ${ms(x.overheadMs.max)}`));
  lines.push(row('engine busy under backlog (≥ 1 job waiting per worker)', (x) => (x.engineBusy === null ? 'no sustained backlog' : `${pct(x.engineBusy)} over ${x.engineBusyWindowS} s`)));
  lines.push(row('engine utilisation over the run', (x) => (x.engineUtilization === null ? '–' : pct(x.engineUtilization))));
  lines.push(row('fairness (Jain, per-user mean time to image)', (x) => (x.fairnessJain === null ? '–' : x.fairnessJain.toFixed(3))));
  lines.push(row('status edits / min: mean, busiest minute (Playground limit per workspace)', (x) => `${x.statusEditsPerMin}, ${x.statusEditsMaxMinute} (${x.statusEditsPerMinLimit}); 429s: ${x.rateLimited}`));
  lines.push(row('max requests in flight / max queue length', (x) => `${x.maxInFlight} / ${x.maxQueueLength}`));
  lines.push(row('bot memory, max RSS / heap used', (x) => `${x.botRssMaxMb ?? '–'} MB / ${x.botHeapMaxMb ?? '–'} MB`));
  lines.push(row('wall time', (x) => `${x.wallS} s`));
  lines.push('', '## Goals', '');
  const five = by(500);
  const synth = res.filter((x) => x.scenario.engine === 'synthetic');
  const worst = (f: (x: ScenarioResult) => number | null): number | null => synth.reduce<number | null>((m, x) => { const v = f(x); return v === null ? m : m === null ? v : Math.max(m, v); }, null);
  const mark = (ok: boolean | null): string => (ok === null ? '–' : ok ? '✅' : '❌');
  const ackP99 = worst((x) => x.ackMs.p99);
  const oh50 = worst((x) => x.overheadMs.p50);
  const oh99 = worst((x) => x.overheadMs.p99);
  const busy = five?.engineBusy ?? null;
  lines.push(`- ${mark(five ? five.failures === 0 : null)} 0 failures at 500 users: ${five ? `${five.failures} of ${five.requests}` : 'not run'}`);
  lines.push(`- ${mark(ackP99 === null ? null : ackP99 < 100)} ack p99 < 100 ms (worst synthetic scenario): ${ms(ackP99)}`);
  lines.push(`- ${mark(oh50 === null ? null : oh50 <= 10)} orchestration overhead p50 ≤ 10 ms (worst): ${ms(oh50)}`);
  lines.push(`- ${mark(oh99 === null ? null : oh99 <= 50)} orchestration overhead p99 ≤ 50 ms (worst): ${ms(oh99)}`);
  lines.push(`- ${mark(busy === null ? null : busy >= 0.95)} engine busy ≥ 95 % under backlog (500 users): ${busy === null ? '–' : pct(busy)}`);
}

/** The bursts: everyone at once. */
function burstSection(lines: string[], bursts: BurstResult[]): void {
  lines.push('', '## Bursts: everyone at the same instant', '');
  lines.push('No workers run (every admitted job stays in line to be counted); each burst follows a warm-up burst of other people. Admission: the burst\'s instant → the job written to the queue (quota, grammar, fair-share place, status record).', '');
  const head = ['', ...bursts.map((x) => x.scenario.name)];
  const row = (label: string, f: (x: BurstResult) => string): string => `| ${label} | ${bursts.map(f).join(' | ')} |`;
  lines.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
  lines.push(row('commands acked / queued / sent', (x) => `${x.acked} / ${x.queued} / ${x.sent}`));
  lines.push(row('ack latency p50 / p95 / p99 / max', (x) => `${ms(x.ackMs.p50)} / ${ms(x.ackMs.p95)} / ${ms(x.ackMs.p99)} / ${ms(x.ackMs.max)}`));
  lines.push(row('sent → queued per person p50 / p99 / max', (x) => `${ms(x.admitMs.p50)} / ${ms(x.admitMs.p99)} / ${ms(x.admitMs.max)}`));
  lines.push(row('whole burst queued in', (x) => ms(x.spanMs)));
  lines.push(row('admission throughput', (x) => (x.admissionPerS === null ? '–' : `${x.admissionPerS} commands/s`)));
  lines.push(row('load generator: all requests sent within', (x) => ms(x.sendSpanMs)));
  lines.push(row('bot CPU per command (ack to queued, user + system)', (x) => (x.botCpuMsPerCommand === null ? '–' : `${x.botCpuMsPerCommand} ms`)));
  lines.push(row('Redis commands per command (scripts\' calls included; most called)', (x) => `${x.redisCallsPerCommand} (${x.redisTopCalls})`));
  lines.push(row('Redis CPU per command (user + system)', (x) => `${x.redisCpuMsPerCommand} ms`));
  lines.push(row('load generator CPU per command (same machine)', (x) => `${x.clientCpuMsPerCommand} ms`));
  lines.push(row('fake Slack Web API CPU per command (a process of its own, same machine)', (x) => (x.scenario.entry === 'slack' ? `${x.fakeApiCpuMsPerCommand} ms` : '–')));
  lines.push(row(`this machine's ceiling: ${cpus().length} cores ÷ (bot + Redis + load generator + fake API CPU per command)`, (x) => {
    const total = (x.botCpuMsPerCommand ?? 0) + x.redisCpuMsPerCommand + x.clientCpuMsPerCommand + x.fakeApiCpuMsPerCommand;
    return total > 0 ? `${Math.round((cpus().length * 1000) / total)} commands/s` : '–';
  }));
  lines.push(row('bot memory, RSS after the burst', (x) => `${x.botRssMb ?? '–'} MB`));
  lines.push('', '### Burst goals', '');
  for (const b of bursts) {
    const okAck = b.ackMs.p99 !== null && b.ackMs.p99 <= 150;
    const okAdm = b.admissionPerS !== null && b.admissionPerS >= 1000 && b.queued === b.sent;
    lines.push(`- ${okAck ? '✅' : '❌'} ${b.scenario.name}: ack p99 ≤ 150 ms: ${ms(b.ackMs.p99)}`);
    lines.push(`- ${okAdm ? '✅' : '❌'} ${b.scenario.name}: admission ≥ 1 000 commands/s, all queued: ${b.admissionPerS ?? '–'} commands/s, ${b.queued} of ${b.sent}`);
  }
}
