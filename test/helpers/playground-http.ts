/**
 * HTTP to the Playground as browsers would do it: each person has their own browser session (cookie jar),
 * because a Playground name speaks only for the session that claimed it. As a browser opens the page before
 * it posts, a person's first request fetches a session first (concurrent first posts share it).
 */
const jars = new Map<string, Promise<string | undefined>>();

function cookieOf(res: Response): string | undefined {
  return res.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('zimage_pg='));
}

/**
 * `fetch` with the session cookie of `person`. One jar per person, whatever the bot: replicas of one bot share
 * their session secret (a browser behind a load balancer keeps one cookie), and a bot that does not know the
 * cookie simply hands out a new one.
 */
export async function pgFetch(base: string, path: string, init: RequestInit = {}, person = ''): Promise<Response> {
  if (!jars.has(person)) jars.set(person, fetch(`${base}/api/playground/messages`).then(cookieOf));
  const cookie = await jars.get(person);
  const headers = new Headers(init.headers);
  if (cookie) headers.set('cookie', cookie);
  const res = await fetch(`${base}${path}`, { ...init, headers, redirect: 'manual' });
  const set = cookieOf(res);
  if (set) jars.set(person, Promise.resolve(set));
  return res;
}

/** POST a JSON body as the person named in its `user` field. */
export function pgPost(base: string, path: string, body: Record<string, unknown>): Promise<Response> {
  return pgFetch(base, path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, String(body.user ?? ''));
}
