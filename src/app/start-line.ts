/**
 * The one line a person reads when the bot starts: where the port listens (exactly), whether the Playground
 * is on and who can reach it (this machine only, or anyone with the access link), and what runs behind it.
 * The access link is printed here, once per start, and never through the logger.
 */
import { hostname } from 'node:os';

export interface StartFacts {
  addresses: Array<{ address: string; family: string; port: number }>;
  playground?: { mode: 'token' | 'loopback'; token?: string };
  /** PUBLIC_URL, when the bot is reached through a reverse proxy or a name of its own. */
  publicUrl?: string;
  model?: string;
  privateRedis?: boolean;
  platforms: string[];
}

const urlOf = (address: string, port: number): string => `http://${address.includes(':') ? `[${address}]` : address}:${port}`;

function listening(facts: StartFacts): string {
  const wildcard = facts.addresses.find((a) => a.address === '0.0.0.0' || a.address === '::');
  if (wildcard) return `listening on every interface, port ${wildcard.port}`;
  return `listening on ${facts.addresses.map((a) => urlOf(a.address, a.port)).join(' and ')}`;
}

export function startLine(facts: StartFacts): string {
  const port = facts.addresses[0]?.port ?? 0;
  const parts = [`zimage-bot ready — ${listening(facts)}`];
  const pg = facts.playground;
  if (pg?.mode === 'loopback') parts.push(`Playground: http://localhost:${port}/ (this machine only)`);
  if (pg?.mode === 'token' && pg.token) {
    const base = (facts.publicUrl ?? `http://${hostname()}:${port}`).replace(/\/+$/, '');
    parts.push(`Playground (access link, keep it private): ${base}/?token=${encodeURIComponent(pg.token)}`);
  }
  if (!pg) parts.push('Playground off');
  const extras = [
    ...facts.platforms.filter((p) => p !== 'playground'),
    ...(facts.model ? [`model: ${facts.model}`] : []),
    ...(facts.privateRedis ? ['private redis'] : []),
  ];
  return `${parts.join(' · ')}${extras.length ? `  (${extras.join(', ')})` : ''}\n`;
}
