/** The doctor's table (check · result · fix) for a terminal, and the exit code. */
import type { CheckResult, Status } from './checks.js';

const MARK: Record<Status, string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', info: '--' };

export function renderTable(results: readonly CheckResult[]): string {
  const w = Math.max(...results.map((r) => r.check.length), 'check'.length);
  const lines = [`${'    '} ${'check'.padEnd(w)}  result`, `${'    '} ${'-'.repeat(w)}  ${'-'.repeat(6)}`];
  for (const r of results) {
    lines.push(`${MARK[r.status].padEnd(4)} ${r.check.padEnd(w)}  ${r.result}`);
    if (r.fix) lines.push(`${' '.repeat(4)} ${' '.repeat(w)}  fix: ${r.fix}`);
  }
  const counts = (s: Status): number => results.filter((r) => r.status === s).length;
  lines.push('', `${counts('fail')} failed, ${counts('warn')} warnings, ${counts('ok')} ok${counts('info') ? `, ${counts('info')} not needed here` : ''}`);
  return lines.join('\n');
}

export function exitCode(results: readonly CheckResult[]): number {
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}
