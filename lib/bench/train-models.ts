/**
 * The models of `convkit bench train`, built the same way as scripts/peers/torch_train.py builds
 * them in PyTorch: LeNet-5, ResNet-18 and MobileNetV2 from the zoo (torchvision's layers and
 * names), and the VGG-style CIFAR net, which has no torchvision counterpart and is defined here
 * and in the peer layer for layer.
 */
import * as models from '../models/index.js';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '../nn/layers/index.js';
import type { Module } from '../nn/module.js';

/** The model names the benchmark rows use (PyTorch's spelling, shared with the peer script). */
export type TrainBenchModel = 'lenet5' | 'cifar_net' | 'resnet18' | 'mobilenet_v2';

/**
 * The VGG-style CIFAR-10 net: conv3x3(3→32, pad 1)-ReLU-conv3x3(32→32, pad 1)-ReLU-maxpool 2-
 * conv3x3(32→64, pad 1)-ReLU-conv3x3(64→64, pad 1)-ReLU-maxpool 2-flatten-fc(4096→512)-ReLU-
 * fc(512→10), on 3x32x32 input (2,168,362 parameters at 10 classes). Default PyTorch
 * initialisation, as `nn.Sequential` of the same layers in PyTorch.
 */
export function cifarNet(numClasses = 10): Sequential {
  return new Sequential(
    new Conv2d(3, 32, 3, { padding: 1 }), new ReLU(),
    new Conv2d(32, 32, 3, { padding: 1 }), new ReLU(),
    new MaxPool2d(2, { stride: 2 }),
    new Conv2d(32, 64, 3, { padding: 1 }), new ReLU(),
    new Conv2d(64, 64, 3, { padding: 1 }), new ReLU(),
    new MaxPool2d(2, { stride: 2 }),
    new Flatten(),
    new Linear(64 * 8 * 8, 512), new ReLU(),
    new Linear(512, numClasses),
  );
}

/** Builds a benchmark model with `numClasses` outputs (1 input channel for LeNet-5, else 3). */
export function buildBenchModel(name: TrainBenchModel, numClasses: number): Module {
  switch (name) {
    case 'lenet5':
      return models.lenet5({ numClasses });
    case 'cifar_net':
      return cifarNet(numClasses);
    case 'resnet18':
      return models.resnet18({ numClasses });
    case 'mobilenet_v2':
      return models.mobilenetV2({ numClasses });
  }
}
