/**
 * The usage chart as a PNG: Apache ECharts renders it on the server as SVG (no browser, no canvas), sharp
 * (librsvg) rasterises it. One picture, three panels: images per day stacked by channel, the wait in line
 * per day (p50 and p95), and the most used templates.
 *
 * Text is drawn with the system's fonts through fontconfig. Chinese labels need a CJK font installed —
 * Debian/Ubuntu: `apt-get install fonts-noto-cjk` (or the small `fonts-wqy-microhei`); without one they show
 * as boxes. FONT_FAMILY lists the families tried, in order.
 */
import * as echarts from 'echarts';
import sharp from 'sharp';
import { t } from '../i18n/index.js';
import type { UsageData } from './usage.js';

export const FONT_FAMILY = "'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Micro Hei', 'WenQuanYi Zen Hei', 'PingFang SC', 'Microsoft YaHei', 'DejaVu Sans', sans-serif";

export interface ChartOptions {
  locale: string;
  /** CSS pixels of the chart (default 1200 × 900). */
  width?: number;
  height?: number;
  /** Pixels per CSS pixel in the PNG (default 2: sharp on phones and high-density screens). */
  scale?: number;
}

const COLORS = ['#5470c6', '#91cc75', '#fac858', '#ee6666', '#73c0de', '#3ba272', '#fc8452', '#9a60b4', '#a0a7b4'];

function seriesName(s: UsageData['channels'][number], locale: string): string {
  if (s.kind === 'dm') return t(locale, 'library.chart_dms');
  if (s.kind === 'other') return t(locale, 'library.chart_other');
  return t(locale, 'library.chart_channel', { channel: s.channel ?? '' });
}

/** The ECharts option for the data (exported for tests and for a page that wants to draw it in the browser). */
export function usageChartOption(data: UsageData, locale: string): echarts.EChartsCoreOption {
  const L = (key: string, params?: Record<string, string | number>): string => t(locale, `library.${key}`, params);
  const days = data.days.map((d) => d.slice(5)); // MM-DD
  const seconds = (v: number | null): number | null => (v === null ? null : Math.round(v / 100) / 10);
  const templates = [...data.templates].reverse(); // the largest on top of a horizontal bar chart
  const imagesText = t(locale, data.total === 1 ? 'quota.images_one' : 'quota.images_other', { n: data.total });
  return {
    animation: false,
    backgroundColor: '#ffffff',
    color: COLORS,
    textStyle: { fontFamily: FONT_FAMILY },
    title: [
      { text: L('chart_title', { from: data.days[0] ?? '', to: data.days.at(-1) ?? '', total: imagesText }), left: 'center', top: 12, textStyle: { fontSize: 20 } },
      { text: L('chart_per_day'), left: 40, top: 52, textStyle: { fontSize: 14, fontWeight: 'normal' } },
      { text: L('chart_wait'), left: 40, top: 500, textStyle: { fontSize: 14, fontWeight: 'normal' } },
      { text: L('chart_templates'), left: '56%', top: 500, textStyle: { fontSize: 14, fontWeight: 'normal' } },
    ],
    legend: [
      { data: data.channels.map((s) => seriesName(s, locale)), top: 76, left: 40, right: 40, type: 'plain' },
      { data: [L('chart_p50'), L('chart_p95')], top: 524, left: 40 },
    ],
    grid: [
      { left: 56, right: 40, top: 112, height: 330 },
      { left: 56, width: '40%', top: 560, bottom: 40 },
      { left: '56%', right: 48, top: 540, bottom: 40, containLabel: true },
    ],
    xAxis: [
      { type: 'category', gridIndex: 0, data: days },
      { type: 'category', gridIndex: 1, data: days },
      { type: 'value', gridIndex: 2, minInterval: 1 },
    ],
    yAxis: [
      { type: 'value', gridIndex: 0, minInterval: 1 },
      { type: 'value', gridIndex: 1 },
      { type: 'category', gridIndex: 2, data: templates.map((x) => x.template ?? L('chart_free_prompt')), axisLabel: { width: 130, overflow: 'truncate' } },
    ],
    series: [
      ...data.channels.map((s) => ({ name: seriesName(s, locale), type: 'bar', stack: 'images', xAxisIndex: 0, yAxisIndex: 0, data: s.perDay })),
      { name: L('chart_p50'), type: 'line', xAxisIndex: 1, yAxisIndex: 1, data: data.wait.p50.map(seconds), connectNulls: false, symbolSize: 6 },
      { name: L('chart_p95'), type: 'line', xAxisIndex: 1, yAxisIndex: 1, data: data.wait.p95.map(seconds), connectNulls: false, symbolSize: 6 },
      { type: 'bar', xAxisIndex: 2, yAxisIndex: 2, data: templates.map((x) => x.images), itemStyle: { color: '#5470c6' }, label: { show: true, position: 'right' } },
    ],
  };
}

/** The usage chart as SVG text. */
export function renderUsageSvg(data: UsageData, o: ChartOptions): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: o.width ?? 1200, height: o.height ?? 900 });
  try {
    chart.setOption(usageChartOption(data, o.locale));
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** The usage chart as a PNG of (width × scale) × (height × scale) pixels, on white. */
export async function renderUsageChart(data: UsageData, o: ChartOptions): Promise<Buffer> {
  const svg = renderUsageSvg(data, o);
  const scale = o.scale ?? 2;
  return sharp(Buffer.from(svg), { density: 72 * scale }).flatten({ background: '#ffffff' }).png().toBuffer();
}
