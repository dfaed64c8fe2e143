#!/usr/bin/python3
"""An independent forward pass of a Keras functional model (model.json topology plus weights by
Keras name), in numpy float64 with TensorFlow's semantics: NHWC, SAME padding split as TF splits
it (the extra cell after), average pools that leave padded cells out of the divisor. It knows
nothing of thaw or timm: it walks the layers as Keras lists them, so that it checks the importer's
mapping rather than repeating it.

    keras_forward.py MODEL_JSON WEIGHTS_NPZ INPUT_NPY OUTPUT_NPY [--layer NAME]

INPUT_NPY: float32 N x 3 x H x W (thaw's layout); OUTPUT_NPY: float64, the layer's output per
sample, flattened. The default layer is the one the first Dense layer reads (the pooled features).
"""
import argparse
import json
import math

import numpy as np


def same_pads(size, k, s):
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return out, total // 2, total - total // 2


def pad_and_out(x, k, s, padding, value):
    """x padded for a k x k window with stride s, and the output size (square windows, NHWC)."""
    if padding == "valid":
        return x, (x.shape[1] - k[0]) // s[0] + 1, (x.shape[2] - k[1]) // s[1] + 1
    oh, t, b = same_pads(x.shape[1], k[0], s[0])
    ow, l, r = same_pads(x.shape[2], k[1], s[1])
    return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=value), oh, ow


def windows(xp, k, s, oh, ow):
    """The (i, j) tap of every output cell: xp[:, i + s*oh, j + s*ow, :] for each tap."""
    for i in range(k[0]):
        for j in range(k[1]):
            yield xp[:, i:i + s[0] * (oh - 1) + 1:s[0], j:j + s[1] * (ow - 1) + 1:s[1], :], i, j


def conv2d(x, kernel, bias, cfg):
    k, s = cfg["kernel_size"], cfg["strides"]
    if list(cfg.get("dilation_rate", [1, 1])) != [1, 1]:
        raise ValueError("dilated convolutions are not supported")
    xp, oh, ow = pad_and_out(x, k, s, cfg["padding"], 0.0)
    y = np.zeros((x.shape[0], oh, ow, kernel.shape[3]))
    for tap, i, j in windows(xp, k, s, oh, ow):
        y += tap @ kernel[i, j]
    if bias is not None:
        y += bias
    return activation(y, cfg.get("activation", "linear"))


def activation(x, name):
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError(f"activation {name} is not supported")


def pool(x, cfg, kind):
    k, s = cfg["pool_size"], cfg["strides"] or cfg["pool_size"]
    if kind == "max":
        xp, oh, ow = pad_and_out(x, k, s, cfg["padding"], -np.inf)
        return np.max([tap for tap, _, _ in windows(xp, k, s, oh, ow)], axis=0)
    xp, oh, ow = pad_and_out(x, k, s, cfg["padding"], 0.0)
    total = sum(tap for tap, _, _ in windows(xp, k, s, oh, ow))
    ones, _, _ = pad_and_out(np.ones((1,) + x.shape[1:3] + (1,)), k, s, cfg["padding"], 0.0)
    count = sum(tap for tap, _, _ in windows(ones, k, s, oh, ow))  # cells inside the input only
    return total / count


def batch_norm(x, w, name, cfg):
    c = x.shape[-1]
    gamma = w[f"{name}/gamma"] if cfg.get("scale", True) else np.ones(c)
    beta = w[f"{name}/beta"] if cfg.get("center", True) else np.zeros(c)
    return (x - w[f"{name}/moving_mean"]) / np.sqrt(w[f"{name}/moving_variance"] + cfg["epsilon"]) * gamma + beta


def run_layer(layer, ins, w):
    kind, cfg, name = layer["class_name"], layer["config"], layer["name"]
    if kind == "Conv2D":
        return conv2d(ins[0], w[f"{name}/kernel"], w.get(f"{name}/bias") if cfg.get("use_bias") else None, cfg)
    if kind == "BatchNormalization":
        if cfg.get("axis") not in (3, -1, [3], [-1]):
            raise ValueError(f"{name}: batch norm over axis {cfg.get('axis')}")
        return batch_norm(ins[0], w, name, cfg)
    if kind == "Activation":
        return activation(ins[0], cfg["activation"])
    if kind == "MaxPooling2D":
        return pool(ins[0], cfg, "max")
    if kind == "AveragePooling2D":
        return pool(ins[0], cfg, "avg")
    if kind == "GlobalAveragePooling2D":
        return ins[0].mean(axis=(1, 2))
    if kind == "Concatenate":
        if cfg.get("axis", -1) not in (3, -1):
            raise ValueError(f"{name}: concat over axis {cfg.get('axis')}")
        return np.concatenate(ins, axis=-1)
    if kind == "Flatten":
        return ins[0].reshape(ins[0].shape[0], -1)
    if kind == "Dropout":
        return ins[0]
    if kind == "Dense":
        y = ins[0] @ w[f"{name}/kernel"]
        if cfg.get("use_bias", True):
            y = y + w[f"{name}/bias"]
        return activation(y, cfg.get("activation", "linear"))
    raise ValueError(f"layer {name}: {kind} is not supported")


def forward(model_json, weights, x_nhwc, target=None):
    layers = model_json["modelTopology"]["model_config"]["config"]["layers"]
    by_name = {layer["name"]: layer for layer in layers}
    inbound = {layer["name"]: [n[0] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
               for layer in layers}
    if target is None:
        target = next(inbound[layer["name"]][0] for layer in layers if layer["class_name"] == "Dense")
    needed, stack = set(), [target]
    while stack:
        n = stack.pop()
        if n not in needed:
            needed.add(n)
            stack.extend(inbound[n])
    readers = {n: sum(n in inbound[m] for m in needed) for n in needed}
    values = {}
    for layer in layers:  # Keras lists a functional model's layers in topological order
        name = layer["name"]
        if name not in needed:
            continue
        if layer["class_name"] == "InputLayer":
            values[name] = x_nhwc
        else:
            values[name] = run_layer(by_name[name], [values[i] for i in inbound[name]], weights)
            for i in inbound[name]:
                readers[i] -= 1
                if readers[i] == 0 and i != target:
                    del values[i]
    out = values[target]
    return out.reshape(out.shape[0], -1)


def load_weights(npz_path):
    with np.load(npz_path) as z:
        return {k.replace("__", "/"): z[k].astype(np.float64) for k in z.files}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_json")
    ap.add_argument("weights_npz")
    ap.add_argument("input_npy")
    ap.add_argument("output_npy")
    ap.add_argument("--layer", help="the layer whose output to write (default: what the first Dense reads)")
    a = ap.parse_args()
    with open(a.model_json) as f:
        model = json.load(f)
    w = load_weights(a.weights_npz)
    x = np.load(a.input_npy).astype(np.float64).transpose(0, 2, 3, 1)
    out = np.concatenate([forward(model, w, x[i:i + 1], a.layer) for i in range(x.shape[0])])
    np.save(a.output_npy, out)


if __name__ == "__main__":
    main()
