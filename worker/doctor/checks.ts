/**
 * `npm run doctor`: every check a worker's machine needs, each with its result and the exact fix. The model's
 * graphs are checked from their protobuf headers against the same v2 contract the engine's loader enforces
 * (contract.ts); CUDA pieces are required with ZIMAGE_EP=cuda, advisory with auto, informational with cpu.
 */
import { join } from 'node:path';
import { checkGraph, readDims, type PortMetadata } from '../engine/contract.js';
import { ensureDemoModel, readDemoMarker } from '../engine/demo-model/build.js';
import { inspectModelDir } from '../engine/model-dir.js';
import { MODEL_FILES, REQUIRED_FILES, SAFETY_FILES, type ModelFileKey } from '../engine/model-files.js';
import { DEFAULT_MODEL_SUBDIR, findDefaultModel, readManifest } from '../../src/model/manifest.js';
import { formatBytes } from '../download/progress.js';
import { readGraphHeader } from './onnx-header.js';
import type { DoctorProbes } from './probes.js';
import { MIN_REDIS_VERSION } from '../../src/infra/redis-version.js';
import { olderThan } from '../../src/infra/version.js';

export type Status = 'ok' | 'warn' | 'fail' | 'info';
export interface CheckResult { check: string; status: Status; result: string; fix?: string }

export interface DoctorOptions {
  env: { REDIS_URL?: string; ZIMAGE_MODEL_DIR?: string; ZIMAGE_EP: 'cpu' | 'cuda' | 'auto'; ZIMAGE_SAFETY_CHECKER: boolean };
  dataDir: string;
  probes: DoctorProbes;
  smoke: boolean;
}

export const MIN_NODE = [20, 19] as const;
/** Size of the v2 export without / with the safety checker (ZIMAGE_ONNX.md §0). */
const DOWNLOAD_BYTES = { plain: 6.02e9, safety: 6.63e9 };
/** Host RAM on CPU ≈ 2.6 × the model's bytes: the full-size replica (5.98 GB) peaked at 14.3 GiB decoding 1024² (docs/ENGINE.md). */
const CPU_RAM_FACTOR = 2.6;
const GPU_MEM_FACTOR = 1.25;
const GiB = 2 ** 30;
const gib = (b: number): string => `${(b / GiB).toFixed(1)} GiB`;

const DOWNLOAD_FIX = 'npm run model:download';
const CUDA_LIBS: Array<{ soname: string; what: string; fix: string }> = [
  { soname: 'libcudart.so.12', what: 'CUDA 12 runtime', fix: 'sudo apt-get install cuda-cudart-12-8 (NVIDIA CUDA apt repository; any 12.x), or put its lib64 directory on LD_LIBRARY_PATH' },
  { soname: 'libcublas.so.12', what: 'cuBLAS 12', fix: 'sudo apt-get install libcublas-12-8 (NVIDIA CUDA apt repository; same 12.x as the runtime)' },
  { soname: 'libcublasLt.so.12', what: 'cuBLASLt 12', fix: 'sudo apt-get install libcublas-12-8 (ships libcublasLt too)' },
  { soname: 'libcudnn.so.9', what: 'cuDNN 9', fix: 'sudo apt-get install libcudnn9-cuda-12 (NVIDIA CUDA apt repository)' },
];

interface ModelChoice { dir: string; label: string; source: 'configured' | 'downloaded' | 'demo' }

async function chooseModel(o: DoctorOptions): Promise<ModelChoice> {
  if (o.env.ZIMAGE_MODEL_DIR) return { dir: o.env.ZIMAGE_MODEL_DIR, label: `ZIMAGE_MODEL_DIR=${o.env.ZIMAGE_MODEL_DIR}`, source: 'configured' };
  const found = await findDefaultModel(o.dataDir);
  if (found) return { dir: found.dir, label: `${found.label} in ${found.dir}`, source: 'downloaded' };
  return { dir: await ensureDemoModel(o.dataDir), label: 'demo model', source: 'demo' };
}

/** Model files and shards, then each graph's signature against the v2 contract. Returns the model's bytes. */
async function modelChecks(o: DoctorOptions, model: ModelChoice, out: CheckResult[]): Promise<{ bytes: number; usable: boolean }> {
  const safety = o.env.ZIMAGE_SAFETY_CHECKER;
  const report = await inspectModelDir(model.dir, { safetyChecker: safety });
  const bytes = report.found.reduce((n, f) => n + f.bytes, 0);
  const fix = model.source === 'configured' ? `${DOWNLOAD_FIX} -- --dir ${model.dir}${safety ? ' --safety-checker' : ''} (or point ZIMAGE_MODEL_DIR at a complete v2 export)` : `${DOWNLOAD_FIX}${safety ? ' -- --safety-checker' : ''}`;
  const manifest = await readManifest(model.dir);
  const sizeProblems = (manifest?.files ?? []).flatMap((f) => {
    const got = report.found.find((x) => x.path === f.path);
    return got && got.bytes !== f.size ? [`${f.path} is ${got.bytes} bytes, the download recorded ${f.size}`] : [];
  });
  const shards = report.found.filter((f) => /_data(_\d+)?$/.test(f.path)).length;
  const problems = [...report.problems, ...sizeProblems];
  out.push(problems.length
    ? { check: 'model files', status: 'fail', result: `${model.label}: ${problems.join('; ')}`, fix }
    : { check: 'model files', status: 'ok', result: `${model.label}: ${report.found.length - shards} files + ${shards} external-data shards, ${formatBytes(bytes)}` });

  const candidates: ModelFileKey[] = [...REQUIRED_FILES, 'schedulerStep', ...(safety ? SAFETY_FILES : [])];
  const keys = candidates.filter((k) => MODEL_FILES[k].endsWith('.onnx'));
  const meta: Partial<Record<ModelFileKey, { inputs: PortMetadata[]; outputs: PortMetadata[] }>> = {};
  const graphProblems: string[] = [];
  const ops = new Set<string>();
  let checked = 0;
  for (const key of keys) {
    const rel = MODEL_FILES[key];
    if (!report.found.some((f) => f.path === rel)) continue;
    try {
      const h = await readGraphHeader(join(model.dir, rel));
      meta[key] = { inputs: h.inputs, outputs: h.outputs };
      graphProblems.push(...checkGraph(key, rel, h.inputs, h.outputs));
      for (const op of Object.keys(h.ops)) if (op.startsWith('com.microsoft::')) ops.add(op.slice('com.microsoft::'.length));
      checked++;
    } catch (err) {
      graphProblems.push(`${rel}: cannot read its protobuf: ${(err as Error).message}`);
    }
  }
  const { dims, problems: dimProblems } = readDims(meta);
  if (checked > 0) graphProblems.push(...dimProblems.filter((p) => !graphProblems.includes(p)));
  out.push(graphProblems.length
    ? { check: 'graphs (v2 contract)', status: 'fail', result: graphProblems.join('; '),
      fix: graphProblems.some((p) => p.includes('v1 export')) ? `${fix}: the v1 export (March 2026) is not supported` : fix }
    : { check: 'graphs (v2 contract)', status: checked ? 'ok' : 'fail', result: checked
      ? `${checked} graphs match (text width ${dims?.hidden ?? '?'}, ${dims?.channels ?? '?'} latent channels; com.microsoft ops: ${[...ops].sort().join(', ') || 'none'})`
      : 'no graph to read', ...(checked ? {} : { fix }) });
  return { bytes, usable: problems.length === 0 && graphProblems.length === 0 && checked > 0 };
}

async function cudaChecks(o: DoctorOptions, modelBytes: number, out: CheckResult[]): Promise<void> {
  const ep = o.env.ZIMAGE_EP;
  const missing: Status = ep === 'cuda' ? 'fail' : ep === 'auto' ? 'warn' : 'info';
  const note = ep === 'cpu' ? ' (only for ZIMAGE_EP=cuda|auto)' : '';
  const ort = await o.probes.ortBinaries();
  const providers = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];
  const absent = providers.filter((f) => !ort.files.includes(f));
  out.push(absent.length
    ? { check: 'CUDA provider (onnxruntime-node)', status: missing, result: `missing ${absent.join(', ')} in ${ort.dir}${note}`, fix: 'ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node' }
    : { check: 'CUDA provider (onnxruntime-node)', status: 'ok', result: `${providers.join(', ')} present` });
  for (const lib of CUDA_LIBS) {
    const at = await o.probes.findLibrary(lib.soname);
    out.push(at
      ? { check: lib.soname, status: 'ok', result: `${lib.what}: ${at}` }
      : { check: lib.soname, status: missing, result: `${lib.what} not found by the dynamic loader (LD_LIBRARY_PATH, ldconfig)${note}`, fix: lib.fix });
  }
  const gpus = await o.probes.nvidiaSmi();
  if (gpus === undefined) {
    out.push({ check: 'GPU (nvidia-smi)', status: missing, result: `nvidia-smi not found${note}`, fix: 'install the NVIDIA driver: sudo apt-get install nvidia-driver (then reboot) — nvidia-smi comes with it' });
  } else if ('error' in gpus || gpus.length === 0) {
    out.push({ check: 'GPU (nvidia-smi)', status: missing, result: `nvidia-smi failed: ${'error' in gpus ? gpus.error : 'no GPU listed'}${note}`, fix: 'check the NVIDIA driver (nvidia-smi must list the GPU; a driver/library version mismatch needs a reboot)' });
  } else {
    const need = modelBytes * GPU_MEM_FACTOR + 2 * GiB;
    const best = [...gpus].sort((a, b) => b.freeMiB - a.freeMiB)[0]!;
    const free = best.freeMiB * 2 ** 20;
    const list = gpus.map((g) => `${g.name} ${gib(g.freeMiB * 2 ** 20)} free of ${gib(g.totalMiB * 2 ** 20)}`).join('; ');
    out.push(free >= need
      ? { check: 'GPU (nvidia-smi)', status: 'ok', result: `${list}, driver ${best.driver}; the model needs ≈ ${gib(need)}` }
      : { check: 'GPU (nvidia-smi)', status: ep === 'cpu' ? 'info' : 'warn', result: `${list}: less than the ≈ ${gib(need)} the model needs`, fix: 'free GPU memory (other processes in nvidia-smi), or pin the worker to a larger GPU with CUDA_VISIBLE_DEVICES=<n>' });
  }
}

export async function runDoctor(o: DoctorOptions): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const p = o.probes;
  const node = p.nodeVersion();
  out.push(!olderThan(node, MIN_NODE.join('.'))
    ? { check: 'Node.js', status: 'ok', result: `v${node}` }
    : { check: 'Node.js', status: 'fail', result: `v${node}; needs ${MIN_NODE.join('.')} or newer`, fix: 'install Node.js 20.19+ (e.g. nvm install 20 && nvm use 20)' });

  if (o.env.REDIS_URL) {
    const r = await p.redisPing(o.env.REDIS_URL);
    const where = o.env.REDIS_URL.replace(/\/\/[^@/]*@/, '//***@');
    if (!r.ok) {
      out.push({ check: 'Redis', status: 'fail', result: `${where}: ${r.error}`, fix: 'start Redis there, or fix REDIS_URL (redis://host:6379); the bot and every worker must share it' });
    } else if (r.version && olderThan(r.version, MIN_REDIS_VERSION)) {
      out.push({ check: 'Redis', status: 'fail', result: `${where} is Redis ${r.version}; the bot needs ${MIN_REDIS_VERSION} or newer`, fix: `upgrade that Redis to ${MIN_REDIS_VERSION}+, or point REDIS_URL at a newer one` });
    } else {
      out.push({ check: 'Redis', status: 'ok', result: `${where} answers PING (${r.ms.toFixed(0)} ms)${r.version ? `, Redis ${r.version}` : ''}` });
    }
  } else {
    const bin = await p.which('redis-server');
    out.push(bin
      ? { check: 'Redis', status: 'ok', result: `REDIS_URL unset: npm start runs a private redis-server (${bin}); separate workers need REDIS_URL` }
      : { check: 'Redis', status: 'fail', result: 'REDIS_URL unset and no redis-server on PATH', fix: 'sudo apt-get install -y redis-server, or set REDIS_URL=redis://host:6379' });
  }

  const model = await chooseModel(o);
  const { bytes, usable } = await modelChecks(o, model, out);
  const demo = (await readDemoMarker(model.dir)) !== undefined;

  const free = await p.freeDisk(o.dataDir);
  const downloaded = model.source !== 'demo';
  const diskNeed = (downloaded ? 0 : o.env.ZIMAGE_SAFETY_CHECKER ? DOWNLOAD_BYTES.safety : DOWNLOAD_BYTES.plain) + 1e9;
  out.push(free >= diskNeed
    ? { check: 'disk', status: 'ok', result: `${formatBytes(free)} free in ${o.dataDir}${downloaded ? '' : ` (room for the ${formatBytes(diskNeed - 1e9)} download)`}` }
    : { check: 'disk', status: downloaded ? 'fail' : 'warn', result: `${formatBytes(free)} free in ${o.dataDir}; ${downloaded ? 'images and logs' : `the model download (${join('DATA_DIR', DEFAULT_MODEL_SUBDIR)})`} need ${formatBytes(diskNeed)}`,
      fix: downloaded ? 'free space in DATA_DIR or move it (DATA_DIR=…)' : `free space, or download elsewhere: ${DOWNLOAD_FIX} -- --dir /big/disk/z-image-turbo and set ZIMAGE_MODEL_DIR` });

  const mem = p.memory();
  const ramNeed = o.env.ZIMAGE_EP === 'cpu' ? bytes * CPU_RAM_FACTOR + GiB : bytes * 0.5 + GiB;
  out.push(mem.total < ramNeed
    ? { check: 'memory', status: 'fail', result: `${gib(mem.total)} RAM; the model on ${o.env.ZIMAGE_EP} needs ≈ ${gib(ramNeed)}`, fix: o.env.ZIMAGE_EP === 'cpu' ? 'use a machine with more RAM, or a GPU (ZIMAGE_EP=cuda)' : 'use a machine with more RAM' }
    : mem.available < ramNeed
      ? { check: 'memory', status: 'warn', result: `${gib(mem.available)} available of ${gib(mem.total)}; the model needs ≈ ${gib(ramNeed)}`, fix: 'stop other memory-hungry processes before starting the worker' }
      : { check: 'memory', status: 'ok', result: `${gib(mem.available)} available of ${gib(mem.total)}; the model needs ≈ ${gib(ramNeed)}` });

  await cudaChecks(o, bytes, out);

  if (!o.smoke) {
    out.push({ check: 'smoke generation', status: 'info', result: 'skipped (--no-smoke)' });
  } else if (!usable) {
    out.push({ check: 'smoke generation', status: 'fail', result: 'not run: the model directory is not usable (see above)', fix: 'fix the model checks above, then run npm run doctor again' });
  } else {
    try {
      const s = await p.smoke(model.dir, o.env.ZIMAGE_EP);
      out.push({ check: 'smoke generation', status: 'ok', result: `${demo ? 'demo model' : 'model'} ${s.width}×${s.height}, 1 step: ${(s.generateMs / 1000).toFixed(2)} s after a ${(s.loadMs / 1000).toFixed(1)} s load on ${s.provider}` });
    } catch (err) {
      const code = (err as { code?: string }).code;
      out.push({ check: 'smoke generation', status: 'fail', result: `${code ? `[${code}] ` : ''}${(err as Error).message.split('\n')[0]}`,
        fix: code === 'EP_UNAVAILABLE' ? 'fix the CUDA checks above, or ZIMAGE_EP=auto|cpu' : 'see the message; the checks above name what is missing' });
    }
  }
  return out;
}
