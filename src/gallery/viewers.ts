/**
 * The library Viewer of a signed-in person: their identity from the session, their role's `manager` and
 * `audit` permissions from the quota service — read again every 30 s at most, so a role a manager takes away
 * stops counting within half a minute, without a Redis read for each of a page's previews.
 */
import { viewerOf, type Viewer } from '../library/visibility.js';
import type { ChatIdentity } from './identity.js';

export interface RoleSource {
  roleOf(id: { platform: string; workspace: string; user: string }): Promise<{ manager: boolean; audit: boolean }>;
}

const TTL_MS = 30_000;
const MAX_ENTRIES = 10_000;

export class Viewers {
  private readonly cache = new Map<string, { viewer: Promise<Viewer>; until: number }>();

  constructor(private readonly roles: RoleSource, private readonly ttlMs = TTL_MS, private readonly now: () => number = Date.now) {}

  of(identity: ChatIdentity): Promise<Viewer> {
    const key = `${identity.platform}\0${identity.workspace}\0${identity.user}`;
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.viewer;
    const viewer = this.roles.roleOf(identity).then((role) => viewerOf(identity, role));
    // A failed read is not remembered.
    viewer.catch(() => this.cache.delete(key));
    if (this.cache.size >= MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { viewer, until: now + this.ttlMs });
    return viewer;
  }
}
