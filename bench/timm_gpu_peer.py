#!/usr/bin/env python3
"""The GPU peer for `thaw bench --device cuda`: timm's inception_v4 training steps on synthetic data.

Runs on the lent GPU machine with its PyTorch venv (timm installed there). For each freeze point,
precision and batch size: images/s of a full training step (forward, cross-entropy, backward of the
trainable part, SGD momentum), channels_last, bf16 through autocast, cuDNN's autotuner on
(cudnn.benchmark: the fastest engines whatever their determinism, as a speed-minded user runs it),
eager and, with --compile, torch.compile. The frozen front runs in eval mode under no_grad, as thaw
runs it. Prints one JSON line per configuration, plus the measured bf16
matrix rate that model-FLOP utilisation is reported against.
"""
import argparse
import json
import time

import torch

BLOCKS = ["conv2d_1a", "conv2d_2a", "conv2d_2b", "mixed_3a", "mixed_4a", "mixed_5a", "mixed_5b", "mixed_5c",
          "mixed_5d", "mixed_5e", "mixed_6a", "mixed_6b", "mixed_6c", "mixed_6d", "mixed_6e", "mixed_6f", "mixed_6g",
          "mixed_6h", "mixed_7a", "mixed_7b", "mixed_7c", "mixed_7d"]
MACS_299 = [19181664, 199148544, 398297088, 294672384, 972218368, 406425600] + [387609600] * 4 + [1097164800] + \
    [847264768] * 7 + [511098880] + [290979840] * 3


def matmul_peak(dtype=torch.bfloat16, n=8192, reps=20):
    a = torch.randn(n, n, device="cuda", dtype=dtype)
    b = torch.randn(n, n, device="cuda", dtype=dtype)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    torch.cuda.synchronize()
    return 2 * n ** 3 * reps / (time.perf_counter() - t)


class Split(torch.nn.Module):
    """Frozen front (eval, no_grad) followed by the trainable rest."""

    def __init__(self, model, freeze_idx):
        super().__init__()
        self.model = model
        self.k = freeze_idx + 1
        for i, block in enumerate(model.features):
            if i < self.k:
                block.eval()
                for p in block.parameters():
                    p.requires_grad_(False)

    def forward(self, x):
        feats = self.model.features
        if self.k > 0:
            with torch.no_grad():
                for block in feats[:self.k]:
                    x = block(x)
        for block in feats[self.k:]:
            x = block(x)
        return self.model.forward_head(x)


def run(args, freeze, precision, batch, compile_model):
    import timm
    torch.manual_seed(0)
    model = timm.create_model("inception_v4", pretrained=False, num_classes=args.classes).cuda()
    model = model.to(memory_format=torch.channels_last)
    idx = -1 if freeze == "none" else BLOCKS.index(freeze)
    net = Split(model, idx)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
    if compile_model:
        net = torch.compile(net)
    x = torch.randn(batch, 3, args.size, args.size, device="cuda").to(memory_format=torch.channels_last)
    y = torch.randint(0, args.classes, (batch,), device="cuda")
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = loss_fn(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    torch.backends.cudnn.allow_tf32 = precision == "tf32"
    torch.cuda.reset_peak_memory_stats()
    for _ in range(args.warmup):
        step()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(args.steps):
        step()
    torch.cuda.synchronize()
    dt = (time.perf_counter() - t) / args.steps
    trainable_macs = sum(MACS_299[idx + 1:]) + 1536 * args.classes
    flops = 2 * (sum(MACS_299) + 1536 * args.classes) + 4 * trainable_macs
    return {"peer": "timm", "torch": torch.__version__, "gpu": torch.cuda.get_device_name(0), "freeze_through": freeze,
            "precision": precision, "batch_size": batch, "compile": compile_model, "images_per_s": batch / dt,
            "step_ms": dt * 1e3, "model_tflops_per_s": flops * batch / dt / 1e12,
            "peak_mem_gib": torch.cuda.max_memory_allocated() / 2 ** 30}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--freeze", default="none,mixed_5e,mixed_6a,mixed_6h,mixed_7d")
    ap.add_argument("--precision", default="fp32,bf16")
    ap.add_argument("--batch", default="128")
    ap.add_argument("--size", type=int, default=299)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--compile", default="", help="freeze points to also time with torch.compile (bf16)")
    args = ap.parse_args()
    torch.backends.cudnn.benchmark = True
    print(json.dumps({"bf16_matmul_tflops": matmul_peak() / 1e12}), flush=True)
    for freeze in filter(None, args.freeze.split(",")):
        for precision in args.precision.split(","):
            for batch in map(int, args.batch.split(",")):
                print(json.dumps(run(args, freeze, precision, batch, False)), flush=True)
    for freeze in filter(None, args.compile.split(",")):
        print(json.dumps(run(args, freeze, "bf16", int(args.batch.split(",")[0]), True)), flush=True)


if __name__ == "__main__":
    main()
