"""torchvision's networks of nnspec/zoo/ written by hand (tests only; torchvision is not installed
here): VGG with batch norm, SqueezeNet 1.1 and MobileNetV2 beside reference_models' AlexNet, VGG
and ResNet.

Module names and order are torchvision's, so the state_dict keys are those of its weights files.
"""

from __future__ import annotations

import torch
from torch import nn

from tests import reference_models as ref
from tests import reference_networks as nets

VGG11_CONFIG = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]  # "A"


def _vgg_bn_features(config: list) -> nn.Sequential:
    layers, channels = [], 3
    for v in config:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, v, kernel_size=3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            channels = v
    return nn.Sequential(*layers)


def vgg(config: list, batch_norm: bool) -> nn.Module:
    model = ref.VGG(config)
    if batch_norm:  # torchvision's make_layers(cfg, batch_norm=True)
        model.features = _vgg_bn_features(config)
    return model


class Fire(nn.Module):
    """torchvision.models.squeezenet.Fire."""

    def __init__(self, inplanes: int, squeeze: int, expand1x1: int, expand3x3: int):
        super().__init__()
        self.squeeze = nn.Conv2d(inplanes, squeeze, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        a = self.expand1x1_activation(self.expand1x1(x))
        return torch.cat([a, self.expand3x3_activation(self.expand3x3(x))], 1)


class SqueezeNet1_1(nn.Module):
    """torchvision.models.squeezenet1_1."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        pool = lambda: nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)  # noqa: E731
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=3, stride=2), nn.ReLU(inplace=True), pool(),
            Fire(64, 16, 64, 64), Fire(128, 16, 64, 64), pool(),
            Fire(128, 32, 128, 128), Fire(256, 32, 128, 128), pool(),
            Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256), Fire(512, 64, 256, 256),
        )  # fmt: skip
        final_conv = nn.Conv2d(512, num_classes, kernel_size=1)
        self.classifier = nn.Sequential(nn.Dropout(p=0.5), final_conv, nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1))

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


class ConvBNReLU(nn.Sequential):
    """torchvision.ops.Conv2dNormActivation as MobileNetV2 builds it: batch norm, ReLU6, no conv bias."""

    def __init__(self, inp: int, oup: int, kernel_size: int = 3, stride: int = 1, groups: int = 1):
        padding = (kernel_size - 1) // 2
        conv = nn.Conv2d(inp, oup, kernel_size, stride, padding, groups=groups, bias=False)
        super().__init__(conv, nn.BatchNorm2d(oup), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    """torchvision.models.mobilenetv2.InvertedResidual."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int):
        super().__init__()
        hidden = inp * expand_ratio
        self.use_res_connect = stride == 1 and inp == oup
        layers = [ConvBNReLU(inp, hidden, kernel_size=1)] if expand_ratio != 1 else []
        layers += [
            ConvBNReLU(hidden, hidden, stride=stride, groups=hidden),  # depthwise
            nn.Conv2d(hidden, oup, 1, bias=False),  # linear projection
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


MOBILENET_V2_SETTINGS = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


class MobileNetV2(nn.Module):
    """torchvision.models.mobilenet_v2 (width 1.0): features.0-18, then pooling and classifier.0-1."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        features, channels = [ConvBNReLU(3, 32, stride=2)], 32
        for t, c, n, s in MOBILENET_V2_SETTINGS:  # (expand ratio, channels, repeats, first stride)
            for i in range(n):
                features.append(InvertedResidual(channels, c, s if i == 0 else 1, t))
                channels = c
        features.append(ConvBNReLU(channels, 1280, kernel_size=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


# zoo model -> (builder, torchvision's published num_params)
NETWORKS = {
    "ResNet18": (lambda: ref.ResNet([2, 2, 2, 2]), 11_689_512),
    "ResNet34": (lambda: ref.ResNet([3, 4, 6, 3]), 21_797_672),
    "ResNet50": (nets.ResNet50, 25_557_032),
    "VGG11": (lambda: vgg(VGG11_CONFIG, False), 132_863_336),
    "VGG11_BN": (lambda: vgg(VGG11_CONFIG, True), 132_868_840),
    "VGG16": (lambda: vgg(ref.VGG16_CONFIG, False), 138_357_544),
    "VGG16_BN": (lambda: vgg(ref.VGG16_CONFIG, True), 138_365_992),
    "AlexNet": (ref.AlexNet, 61_100_840),
    "SqueezeNet1_1": (SqueezeNet1_1, 1_235_496),
    "MobileNetV2": (MobileNetV2, 3_504_872),
}
