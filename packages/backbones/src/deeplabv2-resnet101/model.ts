import * as tf from '@tensorflow/tfjs-core';
import { Module, maxPool2d, maxPoolOutputLength, type Rng } from '@sign/core';
import type { Backbone, BackboneApplyOptions, PretrainedOptions, PretrainedReport } from '../backbone';
import { Aspp } from './aspp';
import { type DeepLabV2Config, resolveDeepLabV2Config } from './config';
import { loadPretrainedResNet } from './pretrained';
import { ConvBn, ResLayer } from './resnet';

/** `layer1` of the release: the stem conv; its max pool has no parameters. */
class Stem extends Module {
  readonly conv1: ConvBn;

  constructor(
    rng: Rng,
    inChannels: number,
    width: number,
    bnEps: number,
    init: 'pytorch' | 'zeros',
  ) {
    super();
    this.conv1 = this.child(
      'conv1',
      new ConvBn(rng.fork('conv1'), {
        inChannels,
        outChannels: width,
        kernelSize: 7,
        stride: 2,
        padding: 3,
        bnEps,
        init,
      }),
    );
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() =>
      maxPool2d(this.conv1.apply(x), { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }),
    );
  }
}

/**
 * DeepLabv2 on ResNet-101, as in the PyTorch port the SIGN release builds on (METHOD §2b):
 *
 * - `layer1`: 7×7/2 conv (padding 3) + frozen BN + ReLU, then a 3×3/2 max pool, padding 1,
 *   **ceil mode**;
 * - `layer2` … `layer5`: [3, 4, 23, 3] bottlenecks with 64/256, 128/512, 256/1024, 512/2048
 *   channels (mid/out); layer3's stride 2 sits on its first block's first 1×1 (`reduce`) conv;
 *   layer4 and layer5 keep the resolution with dilation 2 and 4 (output stride 8); a layer's
 *   first block has a 1×1 projection shortcut (`proj`);
 * - every BatchNorm frozen (running statistics, eps 1e-5; never trainable);
 * - `aspp`: the sum of four 3×3 convs with bias, dilations 6/12/18/24, 2048 → D (600).
 *
 * `images [N,H,W,3]` (BGR, Caffe-mean-subtracted) → `[N, H', W', D]` with H' = {@link outputShape}
 * (for odd sizes ⌈H/8⌉: 513 → 65, 97 → 13; 512 → 65 too, because of the ceil-mode pool).
 * Parameter paths mirror the release's state-dict keys (`layer2.block1.reduce.conv.kernel`,
 * `layer2.block1.reduce.bn.runningMean`, `aspp.stages.c0.bias`, …); {@link deeplabReleaseKey}
 * maps one onto the other.
 *
 * @example
 * const bb = new DeepLabV2ResNet101(new Rng(0));               // 42.5M + 44.2M parameters
 * const h = bb.apply(images, { training: false, rng });        // [1,513,513,3] → [1,65,65,600]
 */
export class DeepLabV2ResNet101 extends Module implements Backbone {
  readonly name = 'deeplabv2-resnet101';
  readonly inputChannels: number;
  readonly outputChannels: number;
  readonly outputStride = 8;
  /** Channels of layer5's output (the ASPP's input): 32 × width = 2048 by default. */
  readonly trunkChannels: number;
  /** The resolved config (defaults filled in). */
  readonly config: Required<DeepLabV2Config>;
  private readonly layer1: Stem;
  private readonly layers: ResLayer[];
  private readonly aspp: Aspp;

  constructor(rng: Rng, cfg: DeepLabV2Config = {}) {
    super();
    const c = resolveDeepLabV2Config(cfg);
    this.config = c;
    this.inputChannels = c.inChannels;
    this.outputChannels = c.channels;
    const w = c.width;
    this.layer1 = this.child(
      'layer1',
      new Stem(rng.fork('layer1'), c.inChannels, w, c.bnEps, c.init),
    );
    // [layer, in, mid, out, stride, dilation]
    const specs: [string, number, number, number, number, number][] = [
      ['layer2', w, w, 4 * w, 1, 1],
      ['layer3', 4 * w, 2 * w, 8 * w, 2, 1],
      ['layer4', 8 * w, 4 * w, 16 * w, 1, 2],
      ['layer5', 16 * w, 8 * w, 32 * w, 1, 4],
    ];
    this.layers = specs.map(([name, inChannels, midChannels, outChannels, stride, dilation], i) =>
      this.child(
        name,
        new ResLayer(rng.fork(name), {
          count: c.blocks[i],
          inChannels,
          midChannels,
          outChannels,
          stride,
          dilation,
          bnEps: c.bnEps,
          init: c.init,
        }),
      ),
    );
    this.trunkChannels = 32 * w;
    this.aspp = this.child(
      'aspp',
      new Aspp(rng.fork('aspp'), {
        inChannels: 32 * w,
        outChannels: c.channels,
        dilations: c.asppDilations,
        init: c.init,
      }),
    );
  }

  /**
   * Feature-map size for an `height × width` image: the stem conv gives ⌈H/2⌉, the ceil-mode
   * pool `maxPoolOutputLength(⌈H/2⌉, 3, 2, 1, true)`, layer3's stride-2 1×1 conv halves it
   * rounding up.
   */
  outputShape(height: number, width: number): [number, number] {
    const side = (n: number) => Math.ceil(maxPoolOutputLength(Math.ceil(n / 2), 3, 2, 1, true) / 2);
    return [side(height), side(width)];
  }

  private checkImages(fn: string, images: tf.Tensor4D): void {
    if (
      !(images instanceof tf.Tensor) ||
      images.rank !== 4 ||
      images.shape[3] !== this.inputChannels
    ) {
      const got =
        images instanceof tf.Tensor ? `shape [${images.shape.join(',')}]` : String(images);
      throw new Error(
        `DeepLabV2ResNet101.${fn}: expected images [N,H,W,${this.inputChannels}], got ${got}`,
      );
    }
    if (images.dtype !== 'float32')
      throw new Error(`DeepLabV2ResNet101.${fn}: expected float32 images, got ${images.dtype}`);
  }

  /**
   * The ResNet trunk alone (layer1 … layer5): `images [N,H,W,C]` → `[N,H',W',trunkChannels]`.
   * Intermediate activations are freed block by block.
   */
  applyTrunk(images: tf.Tensor4D): tf.Tensor4D {
    this.checkImages('applyTrunk', images);
    return tf.tidy(() => {
      let h = this.layer1.apply(images);
      for (const layer of this.layers) {
        const next = layer.apply(h);
        h.dispose();
        h = next;
      }
      return h;
    });
  }

  /** The ASPP alone: `features [N,H',W',trunkChannels]` → `[N,H',W',D]`. */
  applyAspp(features: tf.Tensor4D): tf.Tensor4D {
    if (
      !(features instanceof tf.Tensor) ||
      features.rank !== 4 ||
      features.shape[3] !== this.trunkChannels
    ) {
      const got =
        features instanceof tf.Tensor ? `shape [${features.shape.join(',')}]` : String(features);
      throw new Error(
        `DeepLabV2ResNet101.applyAspp: expected features [N,H,W,${this.trunkChannels}], got ${got}`,
      );
    }
    return this.aspp.apply(features);
  }

  /**
   * Loads ImageNet-pretrained ResNet weights into the trunk (layer1 … layer5): torchvision's
   * `resnet101` state dict, or the Caffe-converted DeepLab weights of either PyTorch port (the
   * release's `scale.layer1.conv1.conv.weight` names, or `Scale.conv1.weight`); the naming is
   * detected from the keys. The ASPP keeps its initialisation (the files' own heads, torchvision's
   * `fc` or a DeepLab port's class-score ASPP, are ignored). With `opts.input`, the stem is
   * rewritten for that input normalisation when the weights saw another one (torchvision's
   * RGB/ImageNet input vs the presets' BGR/Caffe means). Unknown, missing or mis-shaped keys are
   * errors naming them, and nothing is written. See {@link loadPretrainedResNet}.
   *
   * @example
   * const r = backbone.loadPretrained(tensors, { source: 'resnet101.pth', input: CAFFE_BGR_NORMALIZATION });
   * r.naming;   // 'torchvision'
   * r.adapted;  // true
   */
  loadPretrained(weights: Record<string, tf.Tensor>, opts: PretrainedOptions = {}): PretrainedReport {
    return loadPretrainedResNet(this, weights, opts);
  }

  /**
   * `images [N,H,W,C]` float32 → `h [N,H',W',D]` (trunk, then ASPP). BatchNorm is frozen in
   * training mode too, and nothing is stochastic, so `opts` changes nothing (part of the interface).
   */
  apply(images: tf.Tensor4D, opts: BackboneApplyOptions): tf.Tensor4D {
    this.checkImages('apply', images);
    if (opts === undefined || typeof opts.training !== 'boolean') {
      throw new Error('DeepLabV2ResNet101.apply: opts { training: boolean, rng } is required');
    }
    return tf.tidy(() => {
      const trunk = this.applyTrunk(images);
      const h = this.aspp.apply(trunk);
      trunk.dispose();
      return h;
    });
  }
}

/**
 * Registry factory for `'deeplabv2-resnet101'`.
 *
 * @example
 * const bb = createDeepLabV2ResNet101(new Rng(0), { init: 'zeros' });   // then loadTorchStateDict(bb, tensors, deeplabReleaseKey)
 */
export function createDeepLabV2ResNet101(rng: Rng, cfg?: DeepLabV2Config): DeepLabV2ResNet101 {
  return new DeepLabV2ResNet101(rng, cfg ?? {});
}
