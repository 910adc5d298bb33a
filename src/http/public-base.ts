/**
 * Where people reach the bot, for links the bot hands out (the Playground's access link, gallery sign-in
 * links): PUBLIC_URL when set (a reverse proxy's https://…), else this machine — `localhost` when the port
 * listens on loopback only, its host name when it listens beyond.
 */
import { hostname } from 'node:os';
import { isLoopbackHost } from '../config.js';

export function publicBase(publicUrl: string | undefined, addresses: ReadonlyArray<{ address: string; port: number }>): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  const port = addresses[0]?.port ?? 0;
  const loopbackOnly = addresses.length > 0 && addresses.every((a) => isLoopbackHost(a.address));
  return `http://${loopbackOnly ? 'localhost' : hostname()}:${port}`;
}
