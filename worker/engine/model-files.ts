/**
 * File layout of a Z-Image-Turbo ONNX model directory (the v2 export published as webnn/Z-Image-Turbo, and the
 * generated demo model). Paths are relative to the model directory. Pure: no onnxruntime here.
 */
export const MODEL_FILES = {
  tokenizerJson: 'tokenizer/tokenizer.json',
  tokenizerConfig: 'tokenizer/tokenizer_config.json',
  textEncoder: 'onnx/text_encoder_model_q4f16.onnx',
  transformer: 'onnx/transformer_model_q4f16.onnx',
  vaePreProcess: 'onnx/vae_pre_process_model_f16.onnx',
  vaeDecoder: 'onnx/vae_decoder_model_f16.onnx',
  schedulerStep: 'onnx/scheduler_step_model_f16.onnx',
  scPrep: 'onnx/sc_prep_model_f16.onnx',
  safetyChecker: 'onnx/safety_checker_model_f16.onnx',
} as const;

export type ModelFileKey = keyof typeof MODEL_FILES;

/** Files every model directory must have. */
export const REQUIRED_FILES: readonly ModelFileKey[] = ['tokenizerJson', 'textEncoder', 'transformer', 'vaePreProcess', 'vaeDecoder'];
/** Files needed only when the safety checker is on. */
export const SAFETY_FILES: readonly ModelFileKey[] = ['scPrep', 'safetyChecker'];
