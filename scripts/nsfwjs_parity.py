#!/usr/bin/python3
"""Prepares the check that thaw runs the imported nsfwjs InceptionV3 as Keras does.

    nsfwjs_parity.py --import-dir models/nsfwjs-4.3.0 --out DIR [--size 299] IMAGE...

Writes DIR/inputs.npy (the images squashed to size x size with Pillow's bilinear filter, scaled
to [-1, 1], float32 N x 3 x H x W), DIR/reference.npy (the pooled features of each image by the
independent numpy forward of the decoded Keras model, scripts/keras_forward.py, float64 N x F),
and DIR/features.safetensors: the imported weights with an identity classifier (fc = I, bias 0), so
that `thaw predict --arch inception_v3 --classes F` writes the pooled features themselves.
"""
import argparse
import json
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_forward  # noqa: E402  (the sibling scripts)
from safetensors_np import load_safetensors, save_safetensors, write_atomic  # noqa: E402


def metadata(path):
    import struct
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n)).get("__metadata__", {})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--import-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", type=int, default=299)
    ap.add_argument("images", nargs="+")
    a = ap.parse_args()

    x = np.stack([np.asarray(Image.open(p).convert("RGB").resize((a.size, a.size), Image.BILINEAR), np.float32)
                  .transpose(2, 0, 1) / np.float32(127.5) - np.float32(1.0) for p in a.images])
    write_atomic(os.path.join(a.out, "inputs.npy"), lambda f: np.save(f, x.astype(np.float32)))

    with open(os.path.join(a.import_dir, "keras", "model.json")) as f:
        model = json.load(f)
    w = keras_forward.load_weights(os.path.join(a.import_dir, "keras", "weights.npz"))
    x64 = x.astype(np.float64).transpose(0, 2, 3, 1)
    ref = np.concatenate([keras_forward.forward(model, w, x64[i:i + 1]) for i in range(len(x64))])
    write_atomic(os.path.join(a.out, "reference.npy"), lambda f: np.save(f, ref))

    src = os.path.join(a.import_dir, "inception_v3.safetensors")
    tensors = load_safetensors(src)
    features = ref.shape[1]
    tensors["fc.weight"] = np.eye(features, dtype=np.float32)
    tensors["fc.bias"] = np.zeros(features, np.float32)
    save_safetensors(tensors, os.path.join(a.out, "features.safetensors"), metadata(src))
    print(f"nsfwjs_parity: {len(a.images)} images at {a.size}, {features} features each")


if __name__ == "__main__":
    main()
