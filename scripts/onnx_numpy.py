"""Runs an ONNX file of thaw's models in numpy (float64), so that `thaw export --onnx` checks the
exported file's own outputs where Debian has no ONNX runtime: the file is read with Debian's
python3-onnx, and only the operators torch.onnx.export writes for Inception v4 in eval mode are
known (Conv with its folded batch norm, Relu, Identity, Concat, MaxPool, AveragePool, ReduceMean,
Gemm, Flatten). Any other operator or attribute is an error naming it, never a guess.
"""
import numpy as np
import onnx
from onnx import numpy_helper


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _windows(x, kernel, strides, pads, fill):
    """x [N, C, H, W] padded by pads [top, left, bottom, right] with `fill`, as windows
    [N, C, Ho, Wo, kh, kw] at the strides."""
    t, l, b, r = pads
    xp = np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), constant_values=fill)
    w = np.lib.stride_tricks.sliding_window_view(xp, kernel, axis=(2, 3))
    return w[:, :, ::strides[0], ::strides[1]]


def _check(node, a, allowed):
    extra = set(a) - set(allowed)
    if extra:
        raise ValueError(f"{node.op_type} {node.name}: attributes {sorted(extra)} are not handled")


def _conv(node, x, w, bias=None):
    a = _attrs(node)
    _check(node, a, {"kernel_shape", "pads", "strides", "dilations", "group"})
    if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
        raise ValueError(f"Conv {node.name}: groups and dilations are not handled")
    win = _windows(x, w.shape[2:], a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0]), 0.0)
    y = np.einsum("nchwij,kcij->nkhw", win, w, optimize=True)
    return y + bias[None, :, None, None] if bias is not None else y


def _pool(node, x, kind):
    a = _attrs(node)
    _check(node, a, {"kernel_shape", "pads", "strides", "ceil_mode", "count_include_pad"})
    if a.get("ceil_mode", 0):
        raise ValueError(f"{node.op_type} {node.name}: ceil_mode is not handled")
    k, s, p = a["kernel_shape"], a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0])
    if kind == "max":
        return _windows(x, k, s, p, -np.inf).max(axis=(4, 5))
    total = _windows(x, k, s, p, 0.0).sum(axis=(4, 5))
    if a.get("count_include_pad", 0):
        return total / (k[0] * k[1])
    cells = _windows(np.ones((1, 1) + x.shape[2:]), k, s, p, 0.0).sum(axis=(4, 5))
    return total / cells


def run(path, x):
    """The model's outputs for input x (float64 numpy), by name."""
    model = onnx.load(path)
    g = model.graph
    vals = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in g.initializer}
    inputs = [i.name for i in g.input if i.name not in vals]
    if len(inputs) != 1:
        raise ValueError(f"{path}: expected one input, found {inputs}")
    vals[inputs[0]] = x.astype(np.float64)
    for node in g.node:
        ins = [vals[i] for i in node.input if i]
        op, a = node.op_type, _attrs(node)
        if op == "Conv":
            out = _conv(node, *ins)
        elif op == "Relu":
            out = np.maximum(ins[0], 0.0)
        elif op == "Identity":
            out = ins[0]
        elif op == "Concat":
            out = np.concatenate(ins, axis=a["axis"])
        elif op == "MaxPool":
            out = _pool(node, ins[0], "max")
        elif op == "AveragePool":
            out = _pool(node, ins[0], "avg")
        elif op == "ReduceMean":
            out = ins[0].mean(axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1)))
        elif op == "Flatten":
            out = ins[0].reshape(ins[0].shape[0], -1)
        elif op == "Gemm":
            _check(node, a, {"alpha", "beta", "transA", "transB"})
            A = ins[0].T if a.get("transA", 0) else ins[0]
            B = ins[1].T if a.get("transB", 0) else ins[1]
            out = a.get("alpha", 1.0) * (A @ B) + (a.get("beta", 1.0) * ins[2] if len(ins) > 2 else 0.0)
        else:
            raise ValueError(f"{path}: operator {op} ({node.name}) is not handled")
        vals[node.output[0]] = out
    return {o.name: vals[o.name] for o in g.output}
