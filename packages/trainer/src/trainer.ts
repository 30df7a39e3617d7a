/**
 * The SIGN training pipeline (METHOD §4) as composable stages. Body lands in the next commits;
 * the types and signatures below are the contract the reference app builds on.
 */
import type { ExperimentConfig } from './config';

/** GZS3 metrics in percent (0–100), as returned by `@sign/metrics`' gzs3Metrics. */
export interface Gzs3Result {
  mIoUSeen: number;
  mIoUUnseen: number;
  hIoU: number;
  mIoU: number;
  pixelAccuracy: number;
  perClassIoU: number[];
}

export type Phase = 'step1' | 'transfer' | 'self-training';

export interface StepEvent {
  phase: Phase;
  /** Global step, 1-based, counted over all stages. */
  step: number;
  /** Total steps of the run (step1Iters + transferIters + selfTrainingIters when self-training is on). */
  total: number;
  /** Loss values of this step (names: clsReal, kl, dReal, dFake, clsFakeD, mmd, adv, clsFakeG, clsTransfer, ...). */
  losses: Record<string, number>;
}

export interface TrainerCallbacks {
  onStep?(e: StepEvent): void;
  onEval?(e: { step: number; metrics: Gzs3Result }): void;
  onLog?(msg: string): void;
  onCheckpoint?(path: string): void;
}

export interface RunOptions {
  outDir: string;
  callbacks?: TrainerCallbacks;
  /** Continue from `<outDir>/checkpoints/last.safetensors` when it exists. */
  resume?: boolean;
  /** Aborting stops training after the current step, writes a checkpoint, and rejects with an AbortError. */
  signal?: AbortSignal;
}

export interface RunResult {
  metrics: Gzs3Result;
  perClassIoU: Record<string, number>;
  seen: string[];
  unseen: string[];
  backend: string;
  seconds: number;
  checkpoint: string;
}

export interface TrainedModel {
  config: ExperimentConfig;
  /** All class names, index = class id (0 = background). */
  classNames: string[];
  /** images [N,H,W,1] in 0..1 → labels [N*H*W] and probs [N*H*W*numClasses] at image resolution. */
  predict(images: Float32Array, n: number, height: number, width: number, opts?: { calibrate?: number }): {
    labels: Int32Array;
    probs: Float32Array;
  };
  dispose(): void;
}

export async function runExperiment(_config: ExperimentConfig, _opts: RunOptions): Promise<RunResult> {
  throw new Error('runExperiment: not implemented yet');
}

export async function loadModel(_checkpointPath: string): Promise<TrainedModel> {
  throw new Error('loadModel: not implemented yet');
}

export async function evaluateCheckpoint(
  _checkpointPath: string,
  _opts: { calibrate?: number } = {},
): Promise<Gzs3Result & { perClassIoU: Record<string, number> }> {
  throw new Error('evaluateCheckpoint: not implemented yet');
}
