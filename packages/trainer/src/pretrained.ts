/**
 * `model.backbone.pretrained` (Node: it reads a file): ImageNet-pretrained weights loaded into a
 * freshly built model's backbone before training starts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PretrainedReport, PretrainedWeightsInput } from '@sign/backbones';
import type { DatasetMeta } from '@sign/datasets';
import type { GzsModel } from '@sign/recipes';
import { ConfigError } from './config/validate';
import { readCheckpointFile } from './files';

const KEY = 'model.backbone.pretrained';

/**
 * Reads a weights file (`.pth` through the restricted unpickler of @sign/torch-io, or
 * safetensors; the one reading step of `readCheckpointFile`) and loads it into `model.backbone`
 * with the backbone's own `loadPretrained` (deeplabv2-resnet101: torchvision's ResNet names or a
 * DeepLab port's, detected; the trunk loaded, the ASPP left at its initialisation; the stem
 * rewritten when the weights saw another input normalisation than `dataset`'s). Every problem —
 * a missing or unreadable file, a non-finite value, a key the backbone cannot place, a key it
 * needs and the file lacks, a backbone without pretrained weights — is a {@link ConfigError}
 * naming `model.backbone.pretrained`, the file and the keys, and nothing is written. No tensor
 * outlives the call.
 *
 * @example
 * const report = await loadPretrainedBackbone(model, 'resnet101-5d3b4d8f.pth', data.meta);
 * report.naming; // 'torchvision'
 */
export async function loadPretrainedBackbone(
  model: GzsModel,
  file: string,
  dataset: Pick<DatasetMeta, 'normalization' | 'inputScale'>,
  opts: { weightsInput?: PretrainedWeightsInput } = {},
): Promise<PretrainedReport> {
  const backbone = model.backbone;
  if (typeof backbone.loadPretrained !== 'function')
    throw new ConfigError([`backbone '${backbone.name}' cannot load pretrained weights (deeplabv2-resnet101 can)`], KEY, 'file');
  let tensors: Record<string, tf.Tensor>;
  try {
    ({ tensors } = await readCheckpointFile(file, { requireFinite: true }));
  } catch (err) {
    throw new ConfigError([(err as Error).message], KEY, 'file');
  }
  try {
    const n = dataset.normalization;
    // the model sees (pixel·inputScale·scale − mean) / std of a decoded 8-bit pixel
    const input = { ...n, scale: n.scale * (dataset.inputScale ?? 1) };
    return backbone.loadPretrained(tensors, { source: file, input, ...(opts.weightsInput ? { weightsInput: opts.weightsInput } : {}) });
  } catch (err) {
    throw new ConfigError([(err as Error).message], KEY, 'file');
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
