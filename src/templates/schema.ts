/** The shape of a template preset file (templates/presets/<name>.yaml). */
import { z } from 'zod';

const varName = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'lower-case letters, digits and _ (start with a letter)');

export const variableSchema = z.object({
  description: z.string().min(1).max(200),
  required: z.boolean().default(false),
  default: z.string().max(300).optional(),
  /** Longest accepted value, in characters. */
  maxLength: z.number().int().min(1).max(500).default(120),
  /** When set, the value must match this regular expression (e.g. a hex colour). */
  pattern: z.string().min(1).optional(),
  /** When set, the value must be one of these. */
  choices: z.array(z.string().min(1)).min(1).optional(),
}).strict();

export const postSchema = z.object({
  /** A logo or watermark composited onto the image; `file` is relative to the presets directory. */
  overlay: z.object({
    file: z.string().min(1).regex(/^[^/\\][^:]*$/, 'a path inside the presets directory'),
    gravity: z.enum(['northwest', 'north', 'northeast', 'west', 'center', 'east', 'southwest', 'south', 'southeast']).default('southeast'),
    /** Width of the overlay as a fraction of the image width. */
    scale: z.number().min(0.02).max(1).default(0.2),
    opacity: z.number().min(0).max(1).default(1),
    margin: z.number().min(0).max(0.2).default(0.03),
  }).strict().optional(),
  format: z.enum(['png', 'jpeg', 'webp']).default('png'),
  quality: z.number().int().min(1).max(100).default(90),
}).strict();

/** A preset's texts in another language (`translations: { zh-CN: { … } }`); what it leaves out stays as written. */
export const translationSchema = z.object({
  title: z.string().min(1).max(80).optional(),
  description: z.string().min(1).max(300).optional(),
  /** Variable name → its description in this language. */
  variables: z.record(varName, z.string().min(1).max(200)).default({}),
}).strict();

export const templateSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{1,31}$/, 'lower-case letters, digits and - (2–32 characters)'),
  title: z.string().min(1).max(80),
  description: z.string().min(1).max(300),
  /** The prompt with `{variable}` placeholders. */
  prompt: z.string().min(1).max(2000),
  variables: z.record(varName, variableSchema).default({}),
  size: z.string().regex(/^\d+x\d+$/, 'write WIDTHxHEIGHT, e.g. 1024x1024').default('1024x1024'),
  steps: z.number().int().min(1).max(16).default(8),
  post: postSchema.optional(),
  /** Language (a locale the bot speaks, e.g. zh-CN) → the title, description and variable texts in it. */
  translations: z.record(z.string(), translationSchema).default({}),
}).strict();

export type TemplateFile = z.infer<typeof templateSchema>;
export type TemplateVariable = z.infer<typeof variableSchema>;
export type PostProcess = z.infer<typeof postSchema>;

export interface Template extends TemplateFile {
  /** The file it came from, relative to the presets directory. */
  file: string;
  /** Short content hash: recorded in every result's metadata. */
  version: string;
  width: number;
  height: number;
}
