"""More plain-PyTorch networks written by hand for the specs in specs/ (tests only): ResNet-50 as
torchvision builds it, nanoGPT's GPT, a Siamese network, an encoder-decoder LSTM and a U-Net.

Modules are registered in the order the specs declare them, with the names torchvision and
nanoGPT give them (nanoGPT keeps its layers in a `transformer` ModuleDict; so does GPT here).
"""

from __future__ import annotations

import torch
from torch import nn

from tests.reference_models import ResNet


class Bottleneck(nn.Module):
    """torchvision.models.resnet.Bottleneck: 1x1 narrow, 3x3 (with the stride), 1x1 widen by 4."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet50(ResNet):
    """torchvision.models.resnet50: stages of 3, 4, 6 and 3 bottlenecks."""

    def __init__(self, num_classes: int = 1000):
        nn.Module.__init__(self)
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._stage(64, 3)
        self.layer2 = self._stage(128, 4, stride=2)
        self.layer3 = self._stage(256, 6, stride=2)
        self.layer4 = self._stage(512, 3, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(2048, num_classes)

    def _stage(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = nn.Sequential(
            nn.Conv2d(self.inplanes, planes * 4, kernel_size=1, stride=stride, bias=False),
            nn.BatchNorm2d(planes * 4),
        )
        layers = [Bottleneck(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * 4
        layers += [Bottleneck(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)


class SelfAttention(nn.Module):
    """nanoGPT's CausalSelfAttention: a fused q, k, v projection, heads through PyTorch's
    scaled dot-product attention with a causal mask, an output projection, no biases."""

    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.c_attn = nn.Linear(width, 3 * width, bias=False)
        self.c_proj = nn.Linear(width, width, bias=False)
        self.resid_dropout = nn.Dropout(dropout)
        self.heads, self.width, self.dropout = heads, width, dropout

    def forward(self, x):
        batch, steps, width = x.shape
        parts = self.c_attn(x).split(self.width, dim=2)
        q, k, v = (p.view(batch, steps, self.heads, width // self.heads).transpose(1, 2) for p in parts)
        p = self.dropout if self.training else 0.0
        y = nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        return self.resid_dropout(self.c_proj(y.transpose(1, 2).reshape(batch, steps, width)))


class FeedForward(nn.Module):
    """nanoGPT's MLP: widen by 4, GELU, narrow back, dropout."""

    def __init__(self, width: int, dropout: float):
        super().__init__()
        self.c_fc = nn.Linear(width, 4 * width, bias=False)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * width, width, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class PreNormBlock(nn.Module):
    """nanoGPT's Block: attention and MLP, each after a layer norm, each added to its input."""

    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width, bias=False)
        self.attn = SelfAttention(width, heads, dropout)
        self.ln_2 = nn.LayerNorm(width, bias=False)
        self.mlp = FeedForward(width, dropout)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """nanoGPT's GPT for its character-level Shakespeare configuration; the token embedding is
    the output head's weight."""

    def __init__(self, vocab=65, context=256, layers=6, heads=6, width=384, dropout=0.2):
        super().__init__()
        self.transformer = nn.ModuleDict(
            {
                "wte": nn.Embedding(vocab, width),
                "wpe": nn.Embedding(context, width),
                "drop": nn.Dropout(dropout),
                "h": nn.ModuleList([PreNormBlock(width, heads, dropout) for _ in range(layers)]),
                "ln_f": nn.LayerNorm(width, bias=False),
            }
        )
        self.lm_head = nn.Linear(width, vocab, bias=False)
        self.transformer.wte.weight = self.lm_head.weight

    def forward(self, idx):
        t = self.transformer
        positions = torch.arange(idx.shape[1], device=idx.device)
        x = t.drop(t.wte(idx) + t.wpe(positions))
        for block in t.h:
            x = block(x)
        return self.lm_head(t.ln_f(x))


class Siamese(nn.Module):
    """One trunk applied to both images; a logit from the absolute difference of the embeddings."""

    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Linear(128, 1)

    def forward(self, left, right):
        return self.head((self.trunk(left) - self.trunk(right)).abs())


class Seq2Seq(nn.Module):
    """An encoder LSTM whose final (h, c) start a decoder LSTM over the target."""

    def __init__(self, sources=8000, targets=6000, embed=128, hidden=256, layers=2):
        super().__init__()
        self.source_embedding = nn.Embedding(sources, embed)
        self.encoder = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)
        self.target_embedding = nn.Embedding(targets, embed)
        self.decoder = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)
        self.scores = nn.Linear(hidden, targets)

    def forward(self, source, target):
        _, state = self.encoder(self.source_embedding(source))
        decoded, _ = self.decoder(self.target_embedding(target), state)
        return self.scores(decoded)


def double(c_in: int, c: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
        nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
    )  # fmt: skip


class UNet(nn.Module):
    """Three steps down (features kept), a bottom, three steps up joining the kept features."""

    def __init__(self, widths=(32, 64, 128), channels=3, classes=2):
        super().__init__()
        ins = (channels, *widths[:-1])
        self.downs = nn.ModuleList(double(a, b) for a, b in zip(ins, widths))
        self.bottom = double(widths[-1], 2 * widths[-1])
        self.ups = nn.ModuleList()
        for c in reversed(widths):
            self.ups.append(nn.ModuleList([nn.ConvTranspose2d(2 * c, c, 2, stride=2), double(2 * c, c)]))
        self.mask = nn.Conv2d(widths[0], classes, 1)

    def forward(self, x):
        kept = []
        for down in self.downs:
            x = down(x)
            kept.append(x)
            x = nn.functional.max_pool2d(x, 2)
        x = self.bottom(x)
        for (up, join), skip in zip(self.ups, reversed(kept)):
            x = join(torch.cat([up(x), skip], dim=1))
        return self.mask(x)
