#!/usr/bin/python3
"""An independent PyTorch Inception v4, laid out so its state_dict keys are timm's `inception_v4`.

thaw's reference oracle: it makes random checkpoints and inputs, and computes the logits thaw's
`predict` must reproduce. Written from the architecture's facts (no timm code; timm is not installed).

  make-weights --classes K --seed S --out W.safetensors
  make-input   --n N --size H --seed S --out X.npy
  predict      --weights W.safetensors --input X.npy --output Y.npy [--double] [--threads T]
  edit-weights --weights W.safetensors --key NAME --shape A,B,.. --out W2.safetensors
  selftest

safetensors is read and written by hand (the package is not installed): an 8-byte little-endian
header length, a JSON header {name: {dtype, shape, data_offsets}} with optional "__metadata__",
then the raw little-endian tensor bytes.
"""
import argparse
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

from safetensors_np import load_safetensors, save_safetensors, write_atomic  # noqa: F401 (the sibling file)

BN_EPS = 1e-3

# Timm's block names (TF-slim scopes) in features.* order: the freeze points.
BLOCK_NAMES = ["conv2d_1a", "conv2d_2a", "conv2d_2b", "mixed_3a", "mixed_4a", "mixed_5a",
               "mixed_5b", "mixed_5c", "mixed_5d", "mixed_5e", "mixed_6a",
               "mixed_6b", "mixed_6c", "mixed_6d", "mixed_6e", "mixed_6f", "mixed_6g", "mixed_6h",
               "mixed_7a", "mixed_7b", "mixed_7c", "mixed_7d"]

TIMM_PARAMS_1000 = 42_679_816
MIN_INPUT_SIZE = 75  # the smallest square input whose map survives Reduction-B (1x1)


class ConvBnRelu(nn.Module):
    def __init__(self, cin, cout, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


def cbr(cin, cout, kernel, stride=1, padding=0):
    return ConvBnRelu(cin, cout, kernel, stride, padding)


def avg_pool():
    return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)


class Mixed3a(nn.Module):
    def __init__(self):
        super().__init__()
        self.maxpool = nn.MaxPool2d(3, stride=2)
        self.conv = cbr(64, 96, 3, stride=2)

    def forward(self, x):
        return torch.cat([self.maxpool(x), self.conv(x)], 1)


class Mixed4a(nn.Module):
    def __init__(self):
        super().__init__()
        self.branch0 = nn.Sequential(cbr(160, 64, 1), cbr(64, 96, 3))
        self.branch1 = nn.Sequential(cbr(160, 64, 1), cbr(64, 64, (1, 7), padding=(0, 3)),
                                     cbr(64, 64, (7, 1), padding=(3, 0)), cbr(64, 96, 3))

    def forward(self, x):
        return torch.cat([self.branch0(x), self.branch1(x)], 1)


class Mixed5a(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = cbr(192, 192, 3, stride=2)
        self.maxpool = nn.MaxPool2d(3, stride=2)

    def forward(self, x):
        return torch.cat([self.conv(x), self.maxpool(x)], 1)


class InceptionA(nn.Module):
    def __init__(self):
        super().__init__()
        self.branch0 = cbr(384, 96, 1)
        self.branch1 = nn.Sequential(cbr(384, 64, 1), cbr(64, 96, 3, padding=1))
        self.branch2 = nn.Sequential(cbr(384, 64, 1), cbr(64, 96, 3, padding=1),
                                     cbr(96, 96, 3, padding=1))
        self.branch3 = nn.Sequential(avg_pool(), cbr(384, 96, 1))

    def forward(self, x):
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)], 1)


class ReductionA(nn.Module):
    def __init__(self):
        super().__init__()
        self.branch0 = cbr(384, 384, 3, stride=2)
        self.branch1 = nn.Sequential(cbr(384, 192, 1), cbr(192, 224, 3, padding=1),
                                     cbr(224, 256, 3, stride=2))
        self.branch2 = nn.MaxPool2d(3, stride=2)

    def forward(self, x):
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x)], 1)


class InceptionB(nn.Module):
    def __init__(self):
        super().__init__()
        self.branch0 = cbr(1024, 384, 1)
        self.branch1 = nn.Sequential(cbr(1024, 192, 1), cbr(192, 224, (1, 7), padding=(0, 3)),
                                     cbr(224, 256, (7, 1), padding=(3, 0)))
        self.branch2 = nn.Sequential(cbr(1024, 192, 1), cbr(192, 192, (7, 1), padding=(3, 0)),
                                     cbr(192, 224, (1, 7), padding=(0, 3)),
                                     cbr(224, 224, (7, 1), padding=(3, 0)),
                                     cbr(224, 256, (1, 7), padding=(0, 3)))
        self.branch3 = nn.Sequential(avg_pool(), cbr(1024, 128, 1))

    def forward(self, x):
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)], 1)


class ReductionB(nn.Module):
    def __init__(self):
        super().__init__()
        self.branch0 = nn.Sequential(cbr(1024, 192, 1), cbr(192, 192, 3, stride=2))
        self.branch1 = nn.Sequential(cbr(1024, 256, 1), cbr(256, 256, (1, 7), padding=(0, 3)),
                                     cbr(256, 320, (7, 1), padding=(3, 0)),
                                     cbr(320, 320, 3, stride=2))
        self.branch2 = nn.MaxPool2d(3, stride=2)

    def forward(self, x):
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x)], 1)


class InceptionC(nn.Module):
    def __init__(self):
        super().__init__()
        self.branch0 = cbr(1536, 256, 1)
        self.branch1_0 = cbr(1536, 384, 1)
        self.branch1_1a = cbr(384, 256, (1, 3), padding=(0, 1))
        self.branch1_1b = cbr(384, 256, (3, 1), padding=(1, 0))
        self.branch2_0 = cbr(1536, 384, 1)
        self.branch2_1 = cbr(384, 448, (3, 1), padding=(1, 0))
        self.branch2_2 = cbr(448, 512, (1, 3), padding=(0, 1))
        self.branch2_3a = cbr(512, 256, (1, 3), padding=(0, 1))
        self.branch2_3b = cbr(512, 256, (3, 1), padding=(1, 0))
        self.branch3 = nn.Sequential(avg_pool(), cbr(1536, 256, 1))

    def forward(self, x):
        x0 = self.branch0(x)
        t1 = self.branch1_0(x)
        x1 = torch.cat([self.branch1_1a(t1), self.branch1_1b(t1)], 1)
        t2 = self.branch2_2(self.branch2_1(self.branch2_0(x)))
        x2 = torch.cat([self.branch2_3a(t2), self.branch2_3b(t2)], 1)
        return torch.cat([x0, x1, x2, self.branch3(x)], 1)


class InceptionV4(nn.Module):
    def __init__(self, num_classes=1000, drop_rate=0.0):
        super().__init__()
        self.features = nn.Sequential(
            cbr(3, 32, 3, stride=2), cbr(32, 32, 3), cbr(32, 64, 3, padding=1),
            Mixed3a(), Mixed4a(), Mixed5a(),
            *[InceptionA() for _ in range(4)], ReductionA(),
            *[InceptionB() for _ in range(7)], ReductionB(),
            *[InceptionC() for _ in range(3)])
        self.dropout = nn.Dropout(drop_rate)
        self.last_linear = nn.Linear(1536, num_classes)

    def forward_features(self, x):
        return self.features(x)

    def forward_head(self, x):
        return self.last_linear(self.dropout(x.mean(dim=(2, 3))))

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


# ---- random checkpoints and inputs ----

def random_state_dict(num_classes, seed):
    """Conv weights He-normal; BN affine and running statistics random but tame, so that every
    BN parameter changes the logits and the activations keep an O(1) scale through 22 blocks."""
    rng = np.random.default_rng(seed)
    model = InceptionV4(num_classes)
    out = {}
    for name, t in model.state_dict().items():
        shape = tuple(t.shape)
        if name.endswith("conv.weight"):
            fan_in = int(np.prod(shape[1:]))
            v = rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
        elif name.endswith("bn.weight"):
            v = rng.uniform(0.6, 1.4, shape).astype(np.float32)
        elif name.endswith("bn.bias"):
            v = rng.uniform(-0.2, 0.2, shape).astype(np.float32)
        elif name.endswith("bn.running_mean"):
            v = rng.uniform(-0.2, 0.2, shape).astype(np.float32)
        elif name.endswith("bn.running_var"):
            v = rng.uniform(0.5, 1.5, shape).astype(np.float32)
        elif name.endswith("num_batches_tracked"):
            v = np.array(int(rng.integers(1, 100000)), dtype=np.int64)
        elif name == "last_linear.weight":
            v = rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(1.0 / shape[1]))
        elif name == "last_linear.bias":
            v = rng.uniform(-0.1, 0.1, shape).astype(np.float32)
        else:
            raise RuntimeError(f"no initialiser for {name}")
        out[name] = v
    return out


def build_from_weights(path, double=False):
    arrays = load_safetensors(path)
    if "last_linear.weight" not in arrays:
        raise SystemExit(f"{path}: no last_linear.weight")
    model = InceptionV4(arrays["last_linear.weight"].shape[0])
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in arrays.items()},
                          strict=True)
    model.eval()
    return model.double() if double else model


def count_params(model):
    return sum(p.numel() for p in model.parameters())


# ---- commands ----

def cmd_make_weights(a):
    sd = random_state_dict(a.classes, a.seed)
    save_safetensors(sd, a.out, {"format": "pt", "source": "thaw scripts/torch_inception_v4.py",
                                 "seed": a.seed})


def random_images(n, size, seed):
    """Values in [-1, 1] with a per-image, per-channel offset, contrast and low-frequency pattern
    on top of noise: plain noise averages out in the global pool and the logits of different
    images would hardly differ, so a parity test could not tell images apart."""
    rng = np.random.default_rng(seed)
    coord = np.linspace(0.0, 1.0, size)
    x = np.empty((n, 3, size, size), np.float64)
    for i in range(n):
        for c in range(3):
            fy, fx, phase = rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), rng.uniform(0, 2 * np.pi)
            wave = np.sin(2 * np.pi * (fy * coord[:, None] + fx * coord[None, :]) + phase)
            noise = rng.uniform(-1.0, 1.0, (size, size))
            x[i, c] = rng.uniform(-0.4, 0.4) + rng.uniform(0.2, 0.6) * (0.6 * wave + 0.4 * noise)
    return np.clip(x, -1.0, 1.0).astype(np.float32)


def cmd_make_input(a):
    x = random_images(a.n, a.size, a.seed)
    write_atomic(a.out, lambda f: np.save(f, x))


def cmd_predict(a):
    torch.set_num_threads(a.threads or os.cpu_count() or 1)
    model = build_from_weights(a.weights, a.double)
    x = torch.from_numpy(np.load(a.input))
    if x.ndim != 4 or x.shape[1] != 3:
        raise SystemExit(f"{a.input}: expected N x 3 x H x W, got {tuple(x.shape)}")
    with torch.no_grad():
        y = model(x.double() if a.double else x.float())
    y = y.float().numpy()
    write_atomic(a.output, lambda f: np.save(f, y))


def cmd_edit_weights(a):
    """Replaces one tensor with random values of another shape: a checkpoint thaw must refuse."""
    sd = load_safetensors(a.weights)
    if a.key not in sd:
        raise SystemExit(f"{a.weights}: no tensor {a.key}")
    shape = tuple(int(s) for s in a.shape.split(",") if s != "")
    sd[a.key] = np.random.default_rng(0).standard_normal(shape).astype(sd[a.key].dtype)
    save_safetensors(sd, a.out)


def cmd_selftest(_):
    model = InceptionV4(1000)
    nparams = count_params(model)
    assert nparams == TIMM_PARAMS_1000, f"{nparams} parameters, timm has {TIMM_PARAMS_1000}"
    keys = list(model.state_dict().keys())
    for k in ["features.0.conv.weight", "features.0.bn.num_batches_tracked",
              "features.3.conv.conv.weight",
              "features.4.branch1.3.bn.running_var", "features.5.conv.bn.weight",
              "features.10.branch1.2.conv.weight", "features.18.branch1.3.conv.weight",
              "features.21.branch2_3b.bn.running_mean", "features.21.branch3.1.conv.weight",
              "last_linear.weight", "last_linear.bias"]:
        assert k in keys, f"missing state_dict key {k}"
    assert model.features[21].branch2_1.conv.weight.shape == (448, 384, 3, 1)
    model.eval()
    with torch.no_grad():
        feats = {}
        for size in (299, MIN_INPUT_SIZE):
            x = torch.zeros(1, 3, size, size)
            for i, block in enumerate(model.features):
                x = block(x)
                feats[(size, i)] = tuple(x.shape[1:])
        assert feats[(299, 2)] == (64, 147, 147), feats[(299, 2)]
        assert feats[(299, 3)] == (160, 73, 73), feats[(299, 3)]
        assert feats[(299, 4)] == (192, 71, 71), feats[(299, 4)]
        assert feats[(299, 9)] == (384, 35, 35), feats[(299, 9)]
        assert feats[(299, 17)] == (1024, 17, 17), feats[(299, 17)]
        assert feats[(299, 21)] == (1536, 8, 8), feats[(299, 21)]
        assert feats[(75, 21)] == (1536, 1, 1), feats[(75, 21)]
        for size in (299, MIN_INPUT_SIZE):
            y = model(torch.zeros(2, 3, size, size))
            assert tuple(y.shape) == (2, 1000), y.shape
    # The hand-written safetensors round-trips, including int64 scalars.
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "w.safetensors")
        sd = random_state_dict(5, 1)
        save_safetensors(sd, p, {"k": "v"})
        back = load_safetensors(p)
        assert list(back) == list(sd)
        for k in sd:
            assert back[k].dtype == sd[k].dtype and back[k].shape == sd[k].shape, k
            assert np.array_equal(back[k], sd[k]), k
        with open(p, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            assert n % 8 == 0
    print(f"selftest ok: {nparams} parameters with 1000 classes")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("make-weights")
    s.add_argument("--classes", type=int, required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_make_weights)
    s = sub.add_parser("make-input")
    s.add_argument("--n", type=int, required=True)
    s.add_argument("--size", type=int, required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_make_input)
    s = sub.add_parser("predict")
    s.add_argument("--weights", required=True)
    s.add_argument("--input", required=True)
    s.add_argument("--output", required=True)
    s.add_argument("--double", action="store_true", help="compute in float64")
    s.add_argument("--threads", type=int, default=0, help="0: all cores")
    s.set_defaults(fn=cmd_predict)
    s = sub.add_parser("edit-weights")
    s.add_argument("--weights", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--shape", required=True, help="comma-separated dims")
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_edit_weights)
    s = sub.add_parser("selftest")
    s.set_defaults(fn=cmd_selftest)
    a = p.parse_args(argv)
    a.fn(a)


if __name__ == "__main__":
    main()
