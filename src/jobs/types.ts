/** Shapes that travel through the `generate` and `deliver` queues. JSON-safe by construction. */
import type { ErrorCode } from '../errors.js';

/** What the user asked for, after parsing and defaults. One job makes `count` images with seeds seed, seed+1, … */
export interface GenerateParams {
  prompt: string;
  width: number;
  height: number;
  steps: number;
  seed: number;
  count: number;
}

/**
 * What kind of place a channel is, as the platform tells it: a public channel, a private channel (or group
 * chat), a direct message with the bot, or the local Playground. It decides who may see the images made
 * there (src/library/visibility.ts). Unknown → `private`, the safe default (see channelKindOf).
 */
export type ChannelKind = 'public' | 'private' | 'dm' | 'playground';
export const CHANNEL_KINDS: readonly ChannelKind[] = ['public', 'private', 'dm', 'playground'];

/** A channel kind as recorded, with anything missing or unknown treated as private. */
export function channelKindOf(kind: unknown): ChannelKind {
  return CHANNEL_KINDS.includes(kind as ChannelKind) ? (kind as ChannelKind) : 'private';
}

/** Who is speaking and where the bot answers. Thread references are opaque adapter strings. */
export interface Conversation {
  platform: string;
  workspace: string;
  channel: string;
  /** What the platform says the channel is; absent when it does not say (treated as private). */
  channelKind?: ChannelKind;
  /** Opaque thread reference the adapter can post into (e.g. `slack:T1:C1:1700000000.0001`). */
  thread: string;
  user: string;
  userName?: string;
}

/** Where a job came from and where its results go. */
export interface JobOrigin extends Conversation {
  locale: string;
  eventId: string;
  /** Set for scheduled runs: failures are reported to the owner. */
  schedule?: { id: string; owner: string };
}

/** What a job cost the requester and what is left (shown with the result, kept in provenance). */
export interface ChargeInfo {
  cost: number;
  used: number;
  /** null = unlimited */
  limit: number | null;
  period: 'day' | 'week' | 'month';
  /** Epoch ms of the next reset. */
  resetAt: number;
  timezone: string;
}

/** The template preset a job was made from (provenance), and its post-processing. */
export interface TemplateRef { id: string; version: string }

export interface PostProcessSpec {
  /** Overlay file relative to the presets directory (TEMPLATES_DIR). */
  overlay?: { file: string; gravity: string; scale: number; opacity: number; margin: number };
  format: 'png' | 'jpeg' | 'webp';
  quality: number;
}

export interface GenerateJobData {
  params: GenerateParams;
  origin: JobOrigin;
  charge?: ChargeInfo;
  /** The template preset the job came from, when it did (provenance). */
  template?: TemplateRef;
  post?: PostProcessSpec;
  /** Epoch ms when the request was accepted (queue wait is measured from here). */
  acceptedAt: number;
}

/** Progress reported by the worker through `job.updateProgress`. */
export interface GenerateProgress {
  /** 1-based index of the image being generated (for --count > 1). */
  image: number;
  count: number;
  /** Denoising steps finished for the current image. */
  step: number;
  steps: number;
}

/** Everything recorded about one produced image: shown in chat, embedded in the PNG, written as the JSON sidecar. */
export interface ImageMetadata {
  jobId: string;
  index: number;
  prompt: string;
  seed: number;
  width: number;
  height: number;
  steps: number;
  model: { id: string; name: string; demo: boolean; version?: string };
  /** Template preset id and version; null for a free prompt. */
  template?: TemplateRef | null;
  platform: string;
  workspace: string;
  channel: string;
  /** Always set by the worker; absent in records made before channel kinds were recorded (read as private). */
  channelKind?: ChannelKind;
  user: string;
  userName?: string;
  createdAt: string;
  queueWaitMs: number;
  generationMs: number;
  /** Mean time of one denoising step in the engine (ms). */
  stepMs?: number;
  charge?: ChargeInfo;
  /** Asset-store key of the small WebP preview stored next to the image (absent for images made before previews). */
  thumbnailKey?: string;
}

export interface StoredImage {
  /** Asset-store key of the PNG, e.g. `2026/11/24/j123-0.png`. */
  key: string;
  metadata: ImageMetadata;
}

/** Payload of a `deliver` job: a finished generation, or a clear failure. */
export type DeliverJobData =
  | { kind: 'result'; jobId: string; origin: JobOrigin; images: StoredImage[] }
  | { kind: 'failure'; jobId: string; origin: JobOrigin; code: ErrorCode; detail?: string };
