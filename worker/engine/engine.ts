/**
 * The Engine seam: the only abstraction over the image model. Two implementations share one code path:
 * the Z-Image-Turbo ONNX export and the generated demo model (same tensor contract, tiny graphs).
 */

export interface EngineInfo {
  /** Stable id, e.g. `z-image-turbo-onnx-v2` or `zimage-demo`. */
  id: string;
  /** Human name shown in every result, e.g. `Z-Image-Turbo (ONNX q4f16)` or `demo model`. */
  name: string;
  demo: boolean;
  /** Content hash / version of the loaded files (provenance). */
  version: string;
  /** Maximum prompt length in tokens after the chat template is applied. */
  maxTokens: number;
}

export interface EngineRequest {
  prompt: string;
  width: number;
  height: number;
  steps: number;
  /** One image per seed (a job's --count). */
  seeds: number[];
}

export interface EngineImage {
  seed: number;
  width: number;
  height: number;
  /** Interleaved 8-bit RGB, row-major, width*height*3 bytes. */
  rgb: Uint8Array;
  /** Wall time of this image's generation in ms. */
  ms: number;
}

/** Called after each finished denoising step: image is 1-based within the request. */
export type StepCallback = (image: number, step: number, steps: number) => void;

export interface Engine {
  load(): Promise<EngineInfo>;
  generate(request: EngineRequest, onStep: StepCallback, signal?: AbortSignal): Promise<EngineImage[]>;
  dispose(): Promise<void>;
}
