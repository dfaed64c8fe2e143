#!/usr/bin/python3
"""A synthetic nsfwjs-like package for testing scripts/import-nsfwjs without the network.

    fake_nsfwjs.py make OUT [--div 16] [--input 75] [--seed 1] [--swap-concat mixedN] [--bad-bytes]
                            [--bad-shape]
    fake_nsfwjs.py check OUT IMPORT_DIR

`make` writes OUT/nsfwjs-4.3.0.tgz (package/dist/models/inception_v3/: model.min.js and weight
shards as browserify bundles, as nsfwjs ships them), OUT/hashes.json (its SHA-256s, for
--expect-hashes) and OUT/expected.npz (timm key -> the value the import must produce). The model
is Keras' InceptionV3 as keras.applications builds it (conv2d_bn calls in its order), every width
divided by --div, with the conv / batch norm / activation layers numbered in a random order so
that only the topology can tell them apart; weights are uint8-quantised with per-tensor min and
scale. --swap-concat swaps two inputs of a block's concat; --bad-bytes makes one manifest shape
claim more values than the shards hold; --bad-shape gives one kernel a shape its layer cannot have
(the bytes still adding up). `check` compares IMPORT_DIR/inception_v3.safetensors with
expected.npz bit for bit and prints what differs (exit 1).
"""
import argparse
import base64
import hashlib
import io
import json
import os
import re
import sys
import tarfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from safetensors_np import load_safetensors  # noqa: E402

MODEL_DIR = "package/dist/models/inception_v3"


def js(v):
    """Minified-JavaScript literal text: unquoted identifier keys, !0 / !1, .5 for 0.5."""
    if v is True:
        return "!0"
    if v is False:
        return "!1"
    if v is None:
        return "null"
    if isinstance(v, float):
        t = repr(v)
        return t.replace("0.", ".", 1) if t.startswith(("0.", "-0.")) else t
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ",".join(js(x) for x in v) + "]"
    return "{" + ",".join((k if re.fullmatch(r"[A-Za-z_$][\w$]*", k) else json.dumps(k)) + ":" + js(x)
                          for k, x in v.items()) + "}"


def bundle(value_text, global_name):
    return ('!function(a){if("object"==typeof exports&&"undefined"!=typeof module)module.exports=a();else{(this).'
            + global_name + '=a()}}(function(){return function a(n,i,e){return n[1][0]}({1:[function(a,n,i){'
            + 'n.exports=' + value_text + '},{}]},{},[1])(1)});')


class Builder:
    """keras.applications.inception_v3 in miniature: layer configs, weights and the timm names."""

    def __init__(self, div, size, seed):
        self.div, self.rng = div, np.random.default_rng(seed)
        self.layers, self.weights, self.expected = [], {}, {}
        self.numbers = list(self.rng.permutation(94) + 1)  # conv/bn/act numbering, shuffled
        self.counts = {}
        self.shape = {}  # layer -> (h, w, c)
        self.layers.append({"name": "input_1", "class_name": "InputLayer",
                            "config": {"batch_input_shape": [None, size, size, 3], "dtype": "float32",
                                       "sparse": False, "name": "input_1"}, "inbound_nodes": []})
        self.shape["input_1"] = (size, size, 3)

    def w(self, c):
        return max(1, c // self.div)

    def add(self, kind, cfg, ins, name=None):
        if name is None:
            base = re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower().replace("2_d", "2d")
            self.counts[base] = self.counts.get(base, 0) + 1
            name = f"{base}_{self.counts[base]}"
        self.layers.append({"name": name, "class_name": kind, "config": dict(cfg, name=name),
                            "inbound_nodes": [[[i, 0, 0, {}] for i in ins]]})
        return name

    def quantised(self, name, values):
        lo, hi = float(values.min()), float(values.max())
        scale = (hi - lo) / 255 if hi > lo else 1.0
        q = np.clip(np.round((values - lo) / scale), 0, 255).astype(np.uint8)
        self.weights[name] = (list(values.shape), q, lo, scale)
        return (q.astype(np.float64) * scale + lo).astype(np.float32)  # what the importer must compute

    def out_size(self, n, k, s, padding):
        return -(-n // s) if padding == "same" else (n - k) // s + 1

    def conv_bn(self, x, filters, kh, kw, padding="same", strides=1, timm=None):
        n = self.numbers.pop(0)
        h, wd, cin = self.shape[x]
        cout = self.w(filters)
        c = self.add("Conv2D", {"filters": cout, "kernel_size": [kh, kw], "strides": [strides, strides],
                                "padding": padding, "data_format": "channels_last", "dilation_rate": [1, 1],
                                "activation": "linear", "use_bias": False}, [x], f"conv2d_{n}")
        bn = self.add("BatchNormalization", {"axis": 3, "momentum": 0.99, "epsilon": 0.001, "center": True,
                                             "scale": False}, [c], f"batch_normalization_{n}")
        a = self.add("Activation", {"activation": "relu"}, [bn], f"activation_{n}")
        bound = np.sqrt(6.0 / (cin * kh * kw))
        kernel = self.quantised(f"{c}/kernel", self.rng.uniform(-bound, bound, (kh, kw, cin, cout)))
        beta = self.quantised(f"{bn}/beta", self.rng.uniform(-0.1, 0.1, cout))
        mean = self.quantised(f"{bn}/moving_mean", self.rng.uniform(-0.1, 0.1, cout))
        var = self.quantised(f"{bn}/moving_variance", self.rng.uniform(0.5, 1.5, cout))
        self.expected[f"{timm}.conv.weight"] = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))
        self.expected[f"{timm}.bn.weight"] = np.ones(cout, np.float32)
        self.expected[f"{timm}.bn.bias"] = beta
        self.expected[f"{timm}.bn.running_mean"] = mean
        self.expected[f"{timm}.bn.running_var"] = var
        self.shape[a] = (self.out_size(h, kh, strides, padding), self.out_size(wd, kw, strides, padding), cout)
        return a

    def pool(self, kind, x, k, s, padding):
        name = self.add(kind, {"pool_size": [k, k], "padding": padding, "strides": [s, s],
                               "data_format": "channels_last"}, [x])
        h, w, c = self.shape[x]
        self.shape[name] = (self.out_size(h, k, s, padding), self.out_size(w, k, s, padding), c)
        return name

    def concat(self, ins, name=None):
        name = self.add("Concatenate", {"axis": 3}, ins, name)
        h, w, _ = self.shape[ins[0]]
        self.shape[name] = (h, w, sum(self.shape[i][2] for i in ins))
        return name


def build(b):
    """Keras' InceptionV3 topology, in its creation order, with timm's name for every conv."""
    x = b.conv_bn("input_1", 32, 3, 3, "valid", 2, "Conv2d_1a_3x3")
    x = b.conv_bn(x, 32, 3, 3, "valid", 1, "Conv2d_2a_3x3")
    x = b.conv_bn(x, 64, 3, 3, "same", 1, "Conv2d_2b_3x3")
    x = b.pool("MaxPooling2D", x, 3, 2, "valid")
    x = b.conv_bn(x, 80, 1, 1, "valid", 1, "Conv2d_3b_1x1")
    x = b.conv_bn(x, 192, 3, 3, "valid", 1, "Conv2d_4a_3x3")
    x = b.pool("MaxPooling2D", x, 3, 2, "valid")
    for i, (t, pf) in enumerate([("Mixed_5b", 32), ("Mixed_5c", 64), ("Mixed_5d", 64)]):
        b1 = b.conv_bn(x, 64, 1, 1, timm=f"{t}.branch1x1")
        b5 = b.conv_bn(x, 48, 1, 1, timm=f"{t}.branch5x5_1")
        b5 = b.conv_bn(b5, 64, 5, 5, timm=f"{t}.branch5x5_2")
        bd = b.conv_bn(x, 64, 1, 1, timm=f"{t}.branch3x3dbl_1")
        bd = b.conv_bn(bd, 96, 3, 3, timm=f"{t}.branch3x3dbl_2")
        bd = b.conv_bn(bd, 96, 3, 3, timm=f"{t}.branch3x3dbl_3")
        bp = b.pool("AveragePooling2D", x, 3, 1, "same")
        bp = b.conv_bn(bp, pf, 1, 1, timm=f"{t}.branch_pool")
        x = b.concat([b1, b5, bd, bp], f"mixed{i}")
    b3 = b.conv_bn(x, 384, 3, 3, "valid", 2, "Mixed_6a.branch3x3")
    bd = b.conv_bn(x, 64, 1, 1, timm="Mixed_6a.branch3x3dbl_1")
    bd = b.conv_bn(bd, 96, 3, 3, timm="Mixed_6a.branch3x3dbl_2")
    bd = b.conv_bn(bd, 96, 3, 3, "valid", 2, "Mixed_6a.branch3x3dbl_3")
    bp = b.pool("MaxPooling2D", x, 3, 2, "valid")
    x = b.concat([b3, bd, bp], "mixed3")
    for i, (t, c7) in enumerate([("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)]):
        b1 = b.conv_bn(x, 192, 1, 1, timm=f"{t}.branch1x1")
        b7 = b.conv_bn(x, c7, 1, 1, timm=f"{t}.branch7x7_1")
        b7 = b.conv_bn(b7, c7, 1, 7, timm=f"{t}.branch7x7_2")
        b7 = b.conv_bn(b7, 192, 7, 1, timm=f"{t}.branch7x7_3")
        bd = b.conv_bn(x, c7, 1, 1, timm=f"{t}.branch7x7dbl_1")
        bd = b.conv_bn(bd, c7, 7, 1, timm=f"{t}.branch7x7dbl_2")
        bd = b.conv_bn(bd, c7, 1, 7, timm=f"{t}.branch7x7dbl_3")
        bd = b.conv_bn(bd, c7, 7, 1, timm=f"{t}.branch7x7dbl_4")
        bd = b.conv_bn(bd, 192, 1, 7, timm=f"{t}.branch7x7dbl_5")
        bp = b.pool("AveragePooling2D", x, 3, 1, "same")
        bp = b.conv_bn(bp, 192, 1, 1, timm=f"{t}.branch_pool")
        x = b.concat([b1, b7, bd, bp], f"mixed{4 + i}")
    b3 = b.conv_bn(x, 192, 1, 1, timm="Mixed_7a.branch3x3_1")
    b3 = b.conv_bn(b3, 320, 3, 3, "valid", 2, "Mixed_7a.branch3x3_2")
    b7 = b.conv_bn(x, 192, 1, 1, timm="Mixed_7a.branch7x7x3_1")
    b7 = b.conv_bn(b7, 192, 1, 7, timm="Mixed_7a.branch7x7x3_2")
    b7 = b.conv_bn(b7, 192, 7, 1, timm="Mixed_7a.branch7x7x3_3")
    b7 = b.conv_bn(b7, 192, 3, 3, "valid", 2, "Mixed_7a.branch7x7x3_4")
    bp = b.pool("MaxPooling2D", x, 3, 2, "valid")
    x = b.concat([b3, b7, bp], "mixed8")
    for i, t in enumerate(["Mixed_7b", "Mixed_7c"]):
        b1 = b.conv_bn(x, 320, 1, 1, timm=f"{t}.branch1x1")
        b3 = b.conv_bn(x, 384, 1, 1, timm=f"{t}.branch3x3_1")
        b3a = b.conv_bn(b3, 384, 1, 3, timm=f"{t}.branch3x3_2a")
        b3b = b.conv_bn(b3, 384, 3, 1, timm=f"{t}.branch3x3_2b")
        b3 = b.concat([b3a, b3b], f"mixed9_{i}")
        bd = b.conv_bn(x, 448, 1, 1, timm=f"{t}.branch3x3dbl_1")
        bd = b.conv_bn(bd, 384, 3, 3, timm=f"{t}.branch3x3dbl_2")
        bda = b.conv_bn(bd, 384, 1, 3, timm=f"{t}.branch3x3dbl_3a")
        bdb = b.conv_bn(bd, 384, 3, 1, timm=f"{t}.branch3x3dbl_3b")
        bd = b.concat([bda, bdb])
        bp = b.pool("AveragePooling2D", x, 3, 1, "same")
        bp = b.conv_bn(bp, 192, 1, 1, timm=f"{t}.branch_pool")
        x = b.concat([b1, b3, bd, bp], f"mixed{9 + i}")
    h = b.shape[x][0]
    x = b.pool("AveragePooling2D", x, h, h, "valid")  # global, as nsfwjs' 8x8 pool at 299
    feats = b.shape[x][2]
    x = b.add("Flatten", {"data_format": "channels_last"}, [x])
    x = b.add("Dense", {"units": 5, "activation": "softmax", "use_bias": True}, [x])
    b.quantised(f"{x}/kernel", b.rng.uniform(-0.1, 0.1, (feats, 5)))
    b.quantised(f"{x}/bias", b.rng.uniform(-0.1, 0.1, 5))
    return x


def make(a):
    b = Builder(a.div, a.input, a.seed)
    out_layer = build(b)
    if a.swap_concat:
        layer = next(lay for lay in b.layers if lay["name"] == a.swap_concat)
        nodes = layer["inbound_nodes"][0]
        nodes[1], nodes[2] = nodes[2], nodes[1]
    names = sorted(b.weights)  # nsfwjs' manifest is in name order
    manifest, blob = [], bytearray()
    for n in names:
        shape, q, lo, scale = b.weights[n]
        manifest.append({"name": n, "shape": list(shape), "dtype": "float32",
                         "quantization": {"min": lo, "scale": scale, "dtype": "uint8"}})
        blob += q.tobytes()
    if a.bad_bytes:  # a shape that claims one more output channel than the shards hold
        manifest[-3]["shape"][-1] += 1
    if a.bad_shape:  # a kernel one input channel short, its bytes taken up by an extra tensor after it
        k = next(m for m in manifest if m["name"].endswith("/kernel") and m["shape"][2] > 1)
        k["shape"][2] -= 1
        manifest.insert(manifest.index(k) + 1, {"name": "padding/extra",
                                               "shape": [k["shape"][0] * k["shape"][1] * k["shape"][3]],
                                               "dtype": "float32", "quantization": k["quantization"]})
    n_shards = 4
    step = -(-len(blob) // n_shards)
    shards = [bytes(blob[i:i + step]) for i in range(0, len(blob), step)]
    paths = [f"group1-shard{i + 1}of{len(shards)}" for i in range(len(shards))]
    model = {"modelTopology": {"keras_version": "2.2.4", "backend": "tensorflow",
                               "model_config": {"class_name": "Model", "config": {
                                   "name": "model_1", "layers": b.layers, "input_layers": [["input_1", 0, 0]],
                                   "output_layers": [[out_layer, 0, 0]]}}},
             "weightsManifest": [{"paths": paths, "weights": manifest}]}
    files = {"model.min.js": bundle(js(model), "model").encode()}
    for p, s in zip(paths, shards):
        files[p + ".min.js"] = bundle(json.dumps(base64.b64encode(s).decode()), p.replace("-", "_")).encode()
    os.makedirs(a.out, exist_ok=True)
    tgz = os.path.join(a.out, "nsfwjs-4.3.0.tgz")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(f"{MODEL_DIR}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with open(tgz, "wb") as f:
        f.write(buf.getvalue())
    hashes = {"tarball": hashlib.sha256(buf.getvalue()).hexdigest(),
              "files": {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}}
    with open(os.path.join(a.out, "hashes.json"), "w") as f:
        json.dump(hashes, f)
    np.savez(os.path.join(a.out, "expected.npz"), **b.expected)
    print(f"fake_nsfwjs: {tgz} ({len(b.expected) // 5} convs, {len(names)} tensors, {len(shards)} shards)")


def check(a):
    got = load_safetensors(os.path.join(a.import_dir, "inception_v3.safetensors"))
    bad = []
    with np.load(os.path.join(a.out, "expected.npz")) as z:
        want = {k: z[k] for k in z.files}
    for k, v in want.items():
        if k not in got:
            bad.append(f"missing {k}")
        elif got[k].shape != v.shape or got[k].dtype != np.float32 or not np.array_equal(got[k], v):
            bad.append(f"{k}: differs (shape {got[k].shape} vs {v.shape})")
    extra = [k for k in got if k not in want and not k.endswith("num_batches_tracked")]
    bad += [f"unexpected {k}" for k in extra]
    if sum(k.endswith("num_batches_tracked") for k in got) != 94:
        bad.append("expected 94 num_batches_tracked counters")
    if bad:
        print("\n".join(bad[:20]))
        sys.exit(1)
    print(f"fake_nsfwjs: all {len(want)} tensors as expected")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("out")
    m.add_argument("--div", type=int, default=16)
    m.add_argument("--input", type=int, default=75)
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--swap-concat")
    m.add_argument("--bad-bytes", action="store_true")
    m.add_argument("--bad-shape", action="store_true")
    c = sub.add_parser("check")
    c.add_argument("out")
    c.add_argument("import_dir")
    a = ap.parse_args()
    make(a) if a.cmd == "make" else check(a)


if __name__ == "__main__":
    main()
