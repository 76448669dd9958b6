"""DiDiRN: a ResNet with label and noise-level conditioning, and its
same-backbone cross-entropy baseline.

The convolutional path is the standard ResNet one. With conditioning, each
residual block adds Linear(SiLU(emb)) to the residual branch after its last
conv+BN, then applies GroupNorm + SiLU, then adds the skip and applies ReLU.
"""
import torch
from torch import nn
from torch.nn import functional as F

from .diffusion import sinusoidal

# LAYOUTS maps a layout name to (block kind, blocks per stage, widths, stem).
# "small" is the 28x28 variant: a 3x3 stride-1 stem, no max-pool, three narrow
# stages; "small-s2" the same with a stride-2 stem (the stem control of
# models/README.md).
LAYOUTS = {
    "small": ("basic", [1, 1, 1], [16, 32, 64], "small"),
    "small-s2": ("basic", [1, 1, 1], [16, 32, 64], "small-s2"),
    "resnet18": ("basic", [2, 2, 2, 2], [64, 128, 256, 512], "imagenet"),
    "resnet34": ("basic", [3, 4, 6, 3], [64, 128, 256, 512], "imagenet"),
    "resnet50": ("bottleneck", [3, 4, 6, 3], [64, 128, 256, 512], "imagenet"),
}

EMB_DIM = 256  # sinusoidal embedding of sigma
GN_MIN_CHANNELS = 1  # DiDiRN's default least channels per GroupNorm group (docs/training.md)
COND_DIM = 128  # conditioning vector C


def _groups(channels, min_per_group):
    """Up to 32 GroupNorm groups, as in the reference, with at least
    min_per_group channels each. With one channel per group (the default,
    GN_MIN_CHANNELS) GroupNorm subtracts each channel's own mean, which
    erases the per-channel shift that carries the label and sigma: in the
    small layout the 16- and 32-channel stages see neither, and only the
    64-channel stage (two channels per group) is conditioned. At the paper's
    budget that measured better than two channels per group (the paper's
    code) on three seeds each; models/README.md."""
    for g in range(min(32, channels // min_per_group), 0, -1):
        if channels % g == 0:
            return g
    return 1


class _Cond(nn.Module):
    """Adds the conditioning vector to a residual branch: +Linear(SiLU(emb)),
    then GroupNorm + SiLU. A blind one keeps the GroupNorm + SiLU and adds
    nothing (the control of models/README.md: the label and sigma left out of
    a stage without changing its normalisation)."""

    def __init__(self, channels, min_per_group, blind=False):
        super().__init__()
        self.proj = None if blind else nn.Linear(COND_DIM, channels)
        self.norm = nn.GroupNorm(_groups(channels, min_per_group), channels)

    def forward(self, x, emb):
        if self.proj is not None:
            x = x + self.proj(F.silu(emb))[:, :, None, None]
        return F.silu(self.norm(x))


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, width, stride, cond):
        super().__init__()
        cout = width * self.expansion
        self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.cond = _Cond(cout, *cond) if cond else None
        self.skip = _skip(cin, cout, stride)

    def forward(self, x, emb=None):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        if self.cond is not None:
            h = self.cond(h, emb)
        return F.relu(h + self.skip(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, width, stride, cond):
        super().__init__()
        cout = width * self.expansion
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.cond = _Cond(cout, *cond) if cond else None
        self.skip = _skip(cin, cout, stride)

    def forward(self, x, emb=None):
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.relu(self.bn2(self.conv2(h)))
        h = self.bn3(self.conv3(h))
        if self.cond is not None:
            h = self.cond(h, emb)
        return F.relu(h + self.skip(x))


def _skip(cin, cout, stride):
    if stride == 1 and cin == cout:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))


class _Backbone(nn.Module):
    """cond is 0 (no conditioning) or the least channels per GroupNorm group;
    the first blind_stages stages then get no label and sigma."""

    def __init__(self, layout, in_channels, num_classes, cond, blind_stages=0):
        super().__init__()
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}; want one of {sorted(LAYOUTS)}")
        kind, blocks, widths, stem = LAYOUTS[layout]
        if cond and not 0 <= blind_stages < len(blocks):
            raise ValueError(f"blind_stages {blind_stages}: want 0 to {len(blocks) - 1} (layout {layout!r} has "
                             f"{len(blocks)} stages and the last must see the label and sigma)")
        block = BasicBlock if kind == "basic" else Bottleneck
        if stem in ("small", "small-s2"):
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, widths[0], 3, 2 if stem == "small-s2" else 1, 1, bias=False),
                nn.BatchNorm2d(widths[0]), nn.ReLU())
        else:
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, widths[0], 7, 2, 3, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU(),
                nn.MaxPool2d(3, 2, 1))
        layers, cin = [], widths[0]
        for i, (n, w) in enumerate(zip(blocks, widths)):
            for b in range(n):
                stride = 2 if (b == 0 and i > 0) else 1
                layers.append(block(cin, w, stride, (cond, i < blind_stages) if cond else None))
                cin = w * block.expansion
        self.blocks = nn.ModuleList(layers)
        self.head = nn.Linear(cin, num_classes)
        self.layout, self.in_channels, self.num_classes = layout, in_channels, num_classes

    def features(self, x, emb=None):
        x = self.stem(x)
        for blk in self.blocks:
            x = blk(x, emb)
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)


class DiDiRN(_Backbone):
    """Score model s_theta(y, c, sigma) -> log concrete scores [B, K], with the
    entry at the conditioning label forced to 0."""

    def __init__(self, layout="small", in_channels=1, num_classes=10, gn_min_channels=GN_MIN_CHANNELS,
                 blind_stages=0):
        super().__init__(layout, in_channels, num_classes, cond=gn_min_channels, blind_stages=blind_stages)
        self.sigma_mlp = nn.Sequential(nn.Linear(EMB_DIM, COND_DIM), nn.SiLU(), nn.Linear(COND_DIM, COND_DIM))
        self.label_emb = nn.Embedding(num_classes, COND_DIM)

    def forward(self, image, label, sigma):
        emb = self.sigma_mlp(sinusoidal(sigma, EMB_DIM)) + self.label_emb(label)
        out = self.head(self.features(image, emb))
        classes = torch.arange(self.num_classes, device=label.device)
        keep = (label.unsqueeze(1) != classes.unsqueeze(0)).to(out.dtype)
        return out * keep


class Classifier(_Backbone):
    """The cross-entropy baseline: the same backbone without conditioning."""

    def __init__(self, layout="small", in_channels=1, num_classes=10):
        super().__init__(layout, in_channels, num_classes, cond=0)

    def forward(self, image):
        return self.head(self.features(image))


def build(kind, layout, in_channels, num_classes, gn_min_channels=GN_MIN_CHANNELS, blind_stages=0):
    """kind is "score" (DiDiRN) or "classifier" (CE baseline);
    gn_min_channels is DiDiRN's least channels per GroupNorm group, and its
    first blind_stages stages get no label and sigma."""
    if kind == "score":
        return DiDiRN(layout, in_channels, num_classes, gn_min_channels, blind_stages)
    if kind == "classifier":
        return Classifier(layout, in_channels, num_classes)
    raise ValueError(f"unknown model kind {kind!r}; want score or classifier")
