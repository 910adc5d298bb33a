import { describe, expect, it } from 'vitest';
import { metadataLines, statusHeadline } from '../../src/chat/status-text.js';
import type { ImageMetadata } from '../../src/jobs/types.js';

describe('statusHeadline', () => {
  it('queued: position, total and ETA, ETA omitted when unknown', () => {
    const view = { phase: 'queued', jobId: 'j1', position: 2, total: 3, etaMs: 6200 } as const;
    expect(statusHeadline(view, 'en')).toBe('Queued — position 2 of 3, about 6 s');
    expect(statusHeadline(view, 'zh-CN')).toBe('排队中 — 第 2 位，共 3 位，约 6 秒');
    expect(statusHeadline({ ...view, etaMs: 130_000 }, 'en')).toBe('Queued — position 2 of 3, about 2 min');
    expect(statusHeadline({ ...view, etaMs: null }, 'en')).toBe('Queued — position 2 of 3');
    expect(statusHeadline({ ...view, etaMs: null }, 'zh')).toBe('排队中 — 第 2 位，共 3 位');
  });

  it('generating: step, with the image prefix only for batches', () => {
    const view = { phase: 'generating', jobId: 'j1', image: 1, count: 1, step: 3, steps: 8 } as const;
    expect(statusHeadline(view, 'en')).toBe('Generating — step 3/8');
    expect(statusHeadline({ ...view, image: 2, count: 4 }, 'en')).toBe('Generating — image 2 of 4 · step 3/8');
    expect(statusHeadline(view, 'zh-CN')).toBe('生成中 — 第 3/8 步');
    expect(statusHeadline({ ...view, image: 2, count: 4 }, 'zh-CN')).toBe('生成中 — 第 2/4 张 · 第 3/8 步');
  });

  it('finishing, done, failed, cancelled', () => {
    expect(statusHeadline({ phase: 'finishing', jobId: 'j1' }, 'en')).toBe('Finishing…');
    expect(statusHeadline({ phase: 'finishing', jobId: 'j1' }, 'zh-CN')).toBe('即将完成…');
    expect(statusHeadline({ phase: 'done', jobId: 'j1', images: 4, totalMs: 3240 }, 'en')).toBe('Done — 4 images in 3.2 s');
    expect(statusHeadline({ phase: 'done', jobId: 'j1', images: 1, totalMs: 65_000 }, 'en')).toBe('Done — 1 image in 1 min 5 s');
    expect(statusHeadline({ phase: 'done', jobId: 'j1', images: 4, totalMs: 3240 }, 'zh-CN')).toBe('完成 — 4 张图片，用时 3.2 秒');
    expect(statusHeadline({ phase: 'failed', jobId: 'j1', reason: 'the GPU ran out of memory' }, 'en')).toBe('Failed — the GPU ran out of memory');
    expect(statusHeadline({ phase: 'failed', jobId: 'j1', reason: 'INTERNAL' }, 'zh-CN')).toBe('失败 — 服务出了点问题，请稍后再试。');
    expect(statusHeadline({ phase: 'failed', jobId: 'j1', reason: 'INVALID_SEED' }, 'en')).toBe('Failed — INVALID_SEED');
    expect(statusHeadline({ phase: 'cancelled', jobId: 'j1' }, 'en')).toBe('Cancelled');
    expect(statusHeadline({ phase: 'cancelled', jobId: 'j1' }, 'zh-CN')).toBe('已取消');
  });
});

describe('metadataLines', () => {
  const meta: ImageMetadata = {
    jobId: 'j42', index: 0, prompt: '窗台上的橘猫 🐱', seed: 7, width: 1024, height: 768, steps: 8,
    model: { id: 'zimage-demo', name: 'demo model', demo: true },
    platform: 'playground', workspace: 'local', channel: 'c', user: 'u', createdAt: '2026-01-01T00:00:00Z',
    queueWaitMs: 830, generationMs: 3240,
  };

  it('lists label/value pairs in display order, marking the demo model', () => {
    expect(metadataLines(meta, 'en')).toEqual([
      { field: 'prompt', label: 'Prompt', value: '窗台上的橘猫 🐱' },
      { field: 'seed', label: 'Seed', value: '7' },
      { field: 'size', label: 'Size', value: '1024×768' },
      { field: 'steps', label: 'Steps', value: '8' },
      { field: 'model', label: 'Model', value: 'zimage-demo (demo model)' },
      { field: 'queueWait', label: 'Queue wait', value: '830 ms' },
      { field: 'generation', label: 'Generation time', value: '3.2 s' },
      { field: 'job', label: 'Job ID', value: 'j42' },
    ]);
  });

  it('speaks Chinese and leaves a real model unmarked', () => {
    const lines = metadataLines({ ...meta, model: { id: 'zit', name: 'Z-Image-Turbo', demo: false } }, 'zh-CN');
    expect(lines.map((l) => l.label)).toEqual(['提示词', '种子', '尺寸', '步数', '模型', '排队用时', '生成用时', '任务 ID']);
    expect(lines.find((l) => l.field === 'model')?.value).toBe('Z-Image-Turbo');
    expect(metadataLines(meta, 'zh-CN').find((l) => l.field === 'model')?.value).toBe('zimage-demo（演示模型）');
    expect(lines.find((l) => l.field === 'queueWait')?.value).toBe('830 毫秒');
  });
});
