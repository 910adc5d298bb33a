/**
 * A gallery request's filter, from its query string: `person`, `channel`, `template`, `model` (exact values;
 * an unknown one simply finds nothing), `from` / `to` (calendar days `YYYY-MM-DD` in the team's time zone,
 * both included, or ISO 8601 instants), `q` (prompt words, any script: the library cuts it at
 * MAX_SEARCH_CHARS) and `deleted=1` (auditors: tombstones too). A date that is not one is a 400.
 */
import { HttpError } from '../http/server.js';
import type { ImageFilter } from '../library/queries.js';
import { localMidnight } from '../quota/windows.js';

/** Longest value of an exact filter looked at (anything longer cannot match an id, and stays bounded). */
const MAX_VALUE = 300;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

type Query = Record<string, unknown>;

function text(q: Query, name: string): string | undefined {
  const v = q[name];
  const s = Array.isArray(v) ? v[0] : v;
  if (typeof s !== 'string' || s.trim() === '') return undefined;
  return s.trim().slice(0, MAX_VALUE);
}

/** `YYYY-MM-DD` → the instant its day starts in `tz` (`+1` day: the next one's); an ISO instant as it is. */
export function parseDay(value: string, tz: string, name: string, nextDay = false): Date {
  const m = DAY.exec(value);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const check = new Date(Date.UTC(y, mo - 1, d));
    if (check.getUTCMonth() === mo - 1 && check.getUTCDate() === d && y >= 2000 && y <= 9999) {
      const day = nextDay ? new Date(Date.UTC(y, mo - 1, d + 1)) : check;
      return new Date(localMidnight(tz, { y: day.getUTCFullYear(), m: day.getUTCMonth() + 1, d: day.getUTCDate() }));
    }
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const at = new Date(value);
    if (!Number.isNaN(at.getTime())) return at;
  }
  throw new HttpError(400, 'BAD_DATE', `"${name}" must be a day (YYYY-MM-DD) or an ISO 8601 time`);
}

export function filterOf(q: Query, tz: string): ImageFilter {
  const f: ImageFilter = {};
  const person = text(q, 'person');
  const channel = text(q, 'channel');
  const template = text(q, 'template');
  const model = text(q, 'model');
  const from = text(q, 'from');
  const to = text(q, 'to');
  const search = q.q;
  if (person) f.person = person;
  if (channel) f.channel = channel;
  if (template) f.template = template;
  if (model) f.model = model;
  if (from) f.from = parseDay(from, tz, 'from');
  if (to) f.to = parseDay(to, tz, 'to', true);
  if (typeof search === 'string' && search.trim() !== '') f.search = search;
  if (text(q, 'deleted') === '1') f.includeDeleted = true;
  return f;
}
