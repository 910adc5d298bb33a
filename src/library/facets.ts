/**
 * What the gallery's filters offer: the channels, templates and models among the images a viewer may see,
 * most used first (the people: queries.ts peopleOf). Bounded, and read through the same visibility condition
 * as every list, so a filter never names a channel whose images the viewer cannot see.
 */
import type { Kysely } from 'kysely';
import type { ChannelKind } from '../jobs/types.js';
import { filtered } from './queries.js';
import type { LibrarySchema } from './schema.js';
import type { Viewer } from './visibility.js';

export interface Facets {
  channels: Array<{ channel: string; kind: ChannelKind; images: number }>;
  templates: Array<{ template: string; images: number }>;
  models: Array<{ model: string; name: string; images: number }>;
}

const MAX_FACETS = 200;

export async function facetsOf(db: Kysely<LibrarySchema>, viewer: Viewer): Promise<Facets> {
  const visible = () => filtered(db, viewer, {});
  const [channels, templates, models] = await Promise.all([
    visible().select((eb) => ['images.channel', eb.fn.max('images.channel_kind').as('kind'), eb.fn.countAll<number>().as('n')])
      .groupBy('images.channel').orderBy('n', 'desc').orderBy('images.channel').limit(MAX_FACETS).execute(),
    visible().where('images.template_id', 'is not', null).select((eb) => ['images.template_id', eb.fn.countAll<number>().as('n')])
      .groupBy('images.template_id').orderBy('n', 'desc').orderBy('images.template_id').limit(MAX_FACETS).execute(),
    visible().select((eb) => ['images.model_id', eb.fn.max('images.model_name').as('name'), eb.fn.countAll<number>().as('n')])
      .groupBy('images.model_id').orderBy('n', 'desc').orderBy('images.model_id').limit(MAX_FACETS).execute(),
  ]);
  return {
    channels: channels.map((r) => ({ channel: r.channel, kind: r.kind as ChannelKind, images: Number(r.n) })),
    templates: templates.map((r) => ({ template: r.template_id!, images: Number(r.n) })),
    models: models.map((r) => ({ model: r.model_id, name: String(r.name ?? r.model_id), images: Number(r.n) })),
  };
}
