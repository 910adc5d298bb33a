/**
 * Who may see which image — the one place these rules live. Pure: no I/O. The same rule comes in two forms
 * that must agree: a predicate over an image's facts (`canSee`) and the SQL condition every library query
 * adds (`visibleWhere`), so a direct fetch, a list, a search and an export all see the same images.
 *
 * - Nothing crosses workspaces (a workspace is one platform's team: Slack team, Lark tenant, the Playground).
 * - A person sees their own images and the images made in public channels and in the Playground.
 * - Images from DMs and private channels are visible only to the person who asked and to viewers with the
 *   `audit` permission (a role's `audit: true` in the settings file; admins have it).
 * - Managers see what members see — their workspace's shared images, by anyone (the person filter lists
 *   everyone) — but not other people's DMs or private channels unless they also have `audit`.
 * - A deleted image (a tombstone) is seen by nobody, except by auditors who ask for tombstones.
 * - Usage figures (counts and wait times, never prompts or images) cover the whole workspace, for managers
 *   and auditors only (`workspaceWhere`).
 * An image a viewer may not see is "not found", exactly like one that does not exist.
 */
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import type { ChannelKind } from '../jobs/types.js';
import type { LibrarySchema } from './schema.js';

export interface Viewer {
  platform: string;
  workspace: string;
  user: string;
  /** Managers and admins. */
  manager: boolean;
  /** Roles with the `audit` permission, and admins. */
  audit: boolean;
}

/** The facts about an image that decide who sees it. */
export interface VisibilityFacts {
  platform: string;
  workspace: string;
  user: string;
  channelKind: ChannelKind;
  deleted: boolean;
}

export interface SeeOptions {
  /** Tombstones too (auditors only; ignored for anyone else). */
  includeDeleted?: boolean;
}

/** Channel kinds whose images every member of the workspace sees. */
export const SHARED_KINDS: readonly ChannelKind[] = ['public', 'playground'];

/** A viewer from a chat identity and its role (quota RoleInfo: `manager`, `audit`). */
export function viewerOf(id: { platform: string; workspace: string; user: string }, role: { manager: boolean; audit: boolean }): Viewer {
  return { platform: id.platform, workspace: id.workspace, user: id.user, manager: role.manager, audit: role.audit };
}

export function canSee(viewer: Viewer, image: VisibilityFacts, o: SeeOptions = {}): boolean {
  if (image.platform !== viewer.platform || image.workspace !== viewer.workspace) return false;
  if (image.deleted && !(viewer.audit && o.includeDeleted)) return false;
  return viewer.audit || image.user === viewer.user || SHARED_KINDS.includes(image.channelKind);
}

/** The same rule as a WHERE condition on `images`, for every query of the library. */
export function visibleWhere(viewer: Viewer, o: SeeOptions = {}) {
  return (eb: ExpressionBuilder<LibrarySchema, 'images'>): Expression<SqlBool> => {
    const conditions: Array<Expression<SqlBool>> = [
      eb('images.platform', '=', viewer.platform),
      eb('images.workspace', '=', viewer.workspace),
    ];
    if (!(viewer.audit && o.includeDeleted)) conditions.push(eb('images.deleted_at', 'is', null));
    if (!viewer.audit) {
      conditions.push(eb.or([eb('images.user_id', '=', viewer.user), eb('images.channel_kind', 'in', [...SHARED_KINDS])]));
    }
    return eb.and(conditions);
  };
}

/** Managers and auditors may read usage figures. */
export function canReadUsage(viewer: Viewer): boolean {
  return viewer.manager || viewer.audit;
}

/** Every image of the viewer's workspace, tombstones included: for usage figures, which show no image. */
export function workspaceWhere(viewer: Viewer) {
  return (eb: ExpressionBuilder<LibrarySchema, 'images'>): Expression<SqlBool> =>
    eb.and([eb('images.platform', '=', viewer.platform), eb('images.workspace', '=', viewer.workspace)]);
}
