/**
 * `npm run doctor` on real files, real Redis and real onnxruntime-node (the smoke generation on the demo model);
 * only the GPU side (onnxruntime's CUDA provider files, CUDA libraries, nvidia-smi) is injected — no GPU here.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor, type CheckResult, type DoctorOptions } from '../../worker/doctor/checks.js';
import { readGraphHeader } from '../../worker/doctor/onnx-header.js';
import { systemProbes, type DoctorProbes } from '../../worker/doctor/probes.js';
import { exitCode, renderTable } from '../../worker/doctor/report.js';
import { ensureDemoModel } from '../../worker/engine/demo-model/build.js';
import { MODEL_FILES } from '../../worker/engine/model-files.js';
import { ort } from '../../worker/engine/sessions.js';
import { externalize, v1TransformerGraph } from '../helpers/model-edits.js';

const run = promisify(execFile);
const redisUrl = process.env.ZIMAGE_TEST_REDIS_URL!;
let dataDir: string;
let demoDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'zimage-doctor-'));
  demoDir = await ensureDemoModel(dataDir);
});
afterAll(async () => { await rm(dataDir, { recursive: true, force: true }); });

/** A machine with a GPU and everything CUDA needs installed. */
function gpuMachine(over: Partial<DoctorProbes> = {}): DoctorProbes {
  return {
    ...systemProbes(),
    ortBinaries: async () => ({ dir: '/opt/ort', files: ['libonnxruntime.so.1', 'libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'] }),
    findLibrary: async (soname) => `/usr/local/cuda/lib64/${soname}`,
    nvidiaSmi: async () => [{ name: 'NVIDIA L4', totalMiB: 23034, freeMiB: 22500, driver: '550.90.07' }],
    ...over,
  };
}

const options = (over: Omit<Partial<DoctorOptions>, 'env'> & { env?: Partial<DoctorOptions['env']> } = {}): DoctorOptions => ({
  dataDir, probes: systemProbes(), smoke: true, ...over,
  env: { ZIMAGE_EP: 'cpu', ZIMAGE_SAFETY_CHECKER: false, REDIS_URL: redisUrl, ...over.env },
});

const row = (results: CheckResult[], check: string): CheckResult => {
  const r = results.find((x) => x.check === check);
  if (!r) throw new Error(`no "${check}" row in:\n${renderTable(results)}`);
  return r;
};

async function copyDemo(name: string): Promise<string> {
  const dir = join(dataDir, name);
  await cp(demoDir, dir, { recursive: true });
  return dir;
}

describe('doctor', () => {
  it('the demo model on this CPU machine: all green, the smoke generation timed', async () => {
    const results = await runDoctor(options());
    const table = renderTable(results);
    expect(results.filter((r) => r.status !== 'ok' && r.status !== 'info'), table).toEqual([]);
    expect(exitCode(results)).toBe(0);
    expect(row(results, 'Redis').result).toMatch(/answers PING \(\d+ ms\), Redis \d+\.\d+\.\d+$/);
    expect(row(results, 'model files').result).toMatch(/^demo model: 9 files \+ 0 external-data shards/);
    expect(row(results, 'graphs (v2 contract)').result).toMatch(/^5 graphs match \(text width 32, 16 latent channels; com\.microsoft ops: GatherBlockQuantized, GroupQueryAttention, MatMulNBits, MultiHeadAttention, RotaryEmbedding, SkipSimplifiedLayerNormalization\)/);
    expect(row(results, 'smoke generation').result).toMatch(/^demo model 16×16, 1 step: \d+\.\d\d s after a \d+\.\d s load on cpu$/);
    // CUDA pieces are not needed with ZIMAGE_EP=cpu: informational, each still with its fix.
    expect(row(results, 'CUDA provider (onnxruntime-node)')).toMatchObject({ status: 'info', fix: 'ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node' });
    expect(table).toContain('fix: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node');
  });

  it('a GPU machine with everything installed passes the CUDA checks', async () => {
    const results = await runDoctor(options({ env: { ZIMAGE_EP: 'cuda' }, probes: gpuMachine(), smoke: false }));
    for (const check of ['CUDA provider (onnxruntime-node)', 'libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcudnn.so.9', 'GPU (nvidia-smi)']) {
      expect(row(results, check).status, check).toBe('ok');
    }
    expect(row(results, 'GPU (nvidia-smi)').result).toMatch(/^NVIDIA L4 22\.0 GiB free of 22\.5 GiB, driver 550\.90\.07/);
    expect(exitCode(results)).toBe(0);
  });

  it('ZIMAGE_EP=cuda with cuDNN and the provider files missing: each named with the command that installs it; exit 1', async () => {
    const probes = gpuMachine({
      ortBinaries: async () => ({ dir: '/opt/ort', files: ['libonnxruntime.so.1'] }),
      findLibrary: async (soname) => (soname === 'libcudnn.so.9' ? undefined : `/usr/local/cuda/lib64/${soname}`),
      nvidiaSmi: async () => undefined,
    });
    const results = await runDoctor(options({ env: { ZIMAGE_EP: 'cuda' }, probes, smoke: false }));
    expect(row(results, 'libcudnn.so.9')).toMatchObject({ status: 'fail', fix: 'sudo apt-get install libcudnn9-cuda-12 (NVIDIA CUDA apt repository)' });
    expect(row(results, 'libcudart.so.12').status).toBe('ok');
    expect(row(results, 'CUDA provider (onnxruntime-node)')).toMatchObject({ status: 'fail', result: expect.stringContaining('missing libonnxruntime_providers_cuda.so, libonnxruntime_providers_shared.so') });
    expect(row(results, 'GPU (nvidia-smi)')).toMatchObject({ status: 'fail', fix: expect.stringContaining('sudo apt-get install nvidia-driver') });
    expect(exitCode(results)).toBe(1);
    const auto = await runDoctor(options({ env: { ZIMAGE_EP: 'auto' }, probes, smoke: false }));
    expect(row(auto, 'libcudnn.so.9').status).toBe('warn'); // auto falls back to CPU: advisory
  });

  it('a missing external-data shard is reported with its fix, and the smoke generation is not attempted', async () => {
    const dir = await copyDemo('missing-shard');
    const file = join(dir, MODEL_FILES.transformer);
    await writeFile(file, externalize(await readFile(file), [['w_gain', 'transformer_model_q4f16.onnx_data_1']]).model); // shard not written
    const results = await runDoctor(options({ env: { ZIMAGE_MODEL_DIR: dir } }));
    expect(row(results, 'model files')).toMatchObject({
      status: 'fail',
      result: `ZIMAGE_MODEL_DIR=${dir}: missing external-data shard onnx/transformer_model_q4f16.onnx_data_1 (referenced by onnx/transformer_model_q4f16.onnx)`,
      fix: `npm run model:download -- --dir ${dir} (or point ZIMAGE_MODEL_DIR at a complete v2 export)`,
    });
    expect(row(results, 'graphs (v2 contract)').status).toBe('ok'); // read from the header: the shard is never opened
    expect(row(results, 'smoke generation').result).toBe('not run: the model directory is not usable (see above)');
    expect(exitCode(results)).toBe(1);
  });

  it('a v1-shaped transformer is named as the v1 export, with the fix', async () => {
    const dir = await copyDemo('v1-shaped');
    await writeFile(join(dir, MODEL_FILES.transformer), v1TransformerGraph());
    const results = await runDoctor(options({ env: { ZIMAGE_MODEL_DIR: dir }, smoke: false }));
    const graphs = row(results, 'graphs (v2 contract)');
    expect(graphs.status).toBe('fail');
    expect(graphs.result).toContain('onnx/transformer_model_q4f16.onnx: this is the v1 export');
    expect(graphs.fix).toBe(`npm run model:download -- --dir ${dir} (or point ZIMAGE_MODEL_DIR at a complete v2 export): the v1 export (March 2026) is not supported`);
    expect(exitCode(results)).toBe(1);
  });

  it('Redis unreachable is a required failure', async () => {
    const results = await runDoctor(options({ env: { REDIS_URL: 'redis://127.0.0.1:1' }, smoke: false }));
    expect(row(results, 'Redis')).toMatchObject({ status: 'fail', fix: expect.stringContaining('fix REDIS_URL') });
    expect(exitCode(results)).toBe(1);
  });

  it('a Redis older than 6.2 is a required failure that names the version', async () => {
    const probes = { ...systemProbes(), redisPing: async () => ({ ok: true as const, ms: 1, version: '6.0.16' }) };
    const results = await runDoctor(options({ probes, smoke: false }));
    expect(row(results, 'Redis')).toMatchObject({ status: 'fail', result: expect.stringContaining('is Redis 6.0.16; the bot needs 6.2.0 or newer'), fix: expect.stringContaining('upgrade') });
    expect(exitCode(results)).toBe(1);
  });

  it('reads each graph\'s inputs and outputs from the protobuf exactly as onnxruntime reports them', async () => {
    for (const rel of [MODEL_FILES.textEncoder, MODEL_FILES.transformer, MODEL_FILES.vaePreProcess, MODEL_FILES.vaeDecoder, MODEL_FILES.safetyChecker]) {
      const header = await readGraphHeader(join(demoDir, rel));
      const session = await ort.InferenceSession.create(join(demoDir, rel));
      try {
        const conv = (m: ort.InferenceSession.ValueMetadata): object => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false });
        expect(header.inputs, rel).toEqual(session.inputMetadata.map(conv));
        expect(header.outputs, rel).toEqual(session.outputMetadata.map(conv));
      } finally {
        await session.release();
      }
    }
    expect((await readGraphHeader(join(demoDir, MODEL_FILES.textEncoder))).opsets).toEqual({ 'ai.onnx': 21, 'com.microsoft': 1 });
  });

  it('the CLI prints JSON with --json and exits 0 on the demo model', async () => {
    const r = await run(process.execPath, ['dist/worker/cli/doctor.js', '--json'], {
      env: { PATH: process.env.PATH!, DATA_DIR: dataDir, REDIS_URL: redisUrl, ZIMAGE_EP: 'cpu' }, timeout: 60_000,
    });
    const out = JSON.parse(r.stdout) as { ok: boolean; checks: CheckResult[] };
    expect(out.ok).toBe(true);
    expect(out.checks.map((c) => c.check)).toEqual(expect.arrayContaining(['configuration', 'Node.js', 'Redis', 'model files', 'graphs (v2 contract)', 'disk', 'memory', 'libcudnn.so.9', 'GPU (nvidia-smi)', 'smoke generation']));
  });
});
