#!/usr/bin/python3
"""PyTorch peer of `thaw bench --device cpu`: training throughput of Inception v4 with the network
frozen through a given block, on synthetic data, with an SGD-with-momentum step.

The frozen part runs in eval mode under torch.no_grad (inference only, no saved activations, no
gradients), the rest in train mode with autograd: the same split thaw makes. Prints one JSON line.

  bench/torch_train_bench.py --batch-size 8 --input-size 299 --freeze-through mixed_6h \
      --steps 5 --warmup 1 --threads 2

--profile adds one more step under torch.profiler, after the timed ones (so the rate is not
affected), and reports its self CPU time per op kind in milliseconds: "conv fwd", "conv bwd" (data
and weight gradients together, as PyTorch computes them), "batch norm", "relu", "pools", "concat",
"other".
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import torch_inception_v4 as ref  # noqa: E402  (the sibling script, found through the path above)


def split_model(model, freeze_through):
    """(frozen, trainable) as two callables; the frozen blocks lose requires_grad and stay in
    eval mode so their batch-norm statistics do not move."""
    if freeze_through == "none":
        last = -1
    else:
        last = ref.BLOCK_NAMES.index(freeze_through)
    frozen = model.features[:last + 1]
    trainable_features = model.features[last + 1:]
    for p in frozen.parameters():
        p.requires_grad_(False)
    frozen.eval()
    trainable_features.train()
    model.dropout.train()
    model.last_linear.train()

    def trainable(x):
        return model.forward_head(trainable_features(x))
    return frozen, trainable


# aten op -> the kind thaw's profile calls it (thaw bench --profile); everything else is "other".
OP_KINDS = {
    "aten::mkldnn_convolution": "conv fwd", "aten::_slow_conv2d_forward": "conv fwd",
    "aten::convolution_backward": "conv bwd",
    "aten::native_batch_norm": "batch norm", "aten::native_batch_norm_backward": "batch norm",
    "aten::clamp_min": "relu", "aten::relu_": "relu", "aten::threshold_backward": "relu",
    "aten::avg_pool2d": "pools", "aten::avg_pool2d_backward": "pools",
    "aten::max_pool2d_with_indices": "pools", "aten::max_pool2d_with_indices_backward": "pools",
    "aten::cat": "concat",
}


def profile_step(step):
    """Self CPU milliseconds of one step per op kind."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    kinds = {}
    for e in prof.key_averages():
        kind = OP_KINDS.get(e.key, "other")
        kinds[kind] = kinds.get(kind, 0.0) + e.self_cpu_time_total / 1e3
    return kinds


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--input-size", type=int, default=299)
    p.add_argument("--freeze-through", default="none", choices=["none"] + ref.BLOCK_NAMES)
    p.add_argument("--steps", type=int, default=10, help="timed steps")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads; 0: all cores")
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--profile", action="store_true", help="self CPU ms per op kind of one extra step")
    a = p.parse_args(argv)
    if a.input_size < ref.MIN_INPUT_SIZE:
        p.error(f"--input-size {a.input_size}: must be at least {ref.MIN_INPUT_SIZE}")
    if a.batch_size < 1 or a.steps < 1 or a.warmup < 0:
        p.error("--batch-size and --steps must be positive, --warmup non-negative")

    threads = a.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    torch.manual_seed(a.seed)

    model = ref.InceptionV4(a.classes)
    frozen, trainable = split_model(model, a.freeze_through)
    params = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.SGD(params, lr=a.lr, momentum=a.momentum, weight_decay=a.weight_decay)
    loss_fn = nn.CrossEntropyLoss()

    gen = torch.Generator().manual_seed(a.seed)
    x = torch.rand(a.batch_size, 3, a.input_size, a.input_size, generator=gen) * 2 - 1
    y = torch.randint(0, a.classes, (a.batch_size,), generator=gen)

    def step():
        with torch.no_grad():
            h = frozen(x)
        loss = loss_fn(trainable(h), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss)

    losses = []
    for _ in range(a.warmup):
        losses.append(step())
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        losses.append(step())
        times.append(time.perf_counter() - t0)

    total = sum(times)
    profile = profile_step(step) if a.profile else None
    print(json.dumps({
        "images_per_s": a.batch_size * a.steps / total,
        "ms_per_step_median": 1e3 * statistics.median(times),
        "ms_per_step_min": 1e3 * min(times),
        "batch_size": a.batch_size,
        "input_size": a.input_size,
        "freeze_through": a.freeze_through,
        "steps": a.steps,
        "warmup": a.warmup,
        "threads": threads,
        "classes": a.classes,
        "trainable_params": sum(q.numel() for q in params),
        "total_params": sum(q.numel() for q in model.parameters()),
        "optimizer": {"name": "sgd", "lr": a.lr, "momentum": a.momentum,
                      "weight_decay": a.weight_decay},
        "loss_first": losses[0],
        "loss_last": losses[-1],
        "device": "cpu",
        "framework": f"torch {torch.__version__}",
        "cpu": platform.processor() or platform.machine(),
        **({"profile_ms": profile} if profile is not None else {}),
    }))


if __name__ == "__main__":
    main()
