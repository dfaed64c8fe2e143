"""TensorFlow.js weights: the manifest's tensors, laid end to end over the concatenated shards,
each stored as float32 or quantised (uint8 / uint16 with `min` and `scale`: value = q * scale + min,
computed in double and stored as float32, as tfjs does).
"""
import base64
import binascii
from collections import OrderedDict

import numpy as np


class WeightsError(Exception):
    pass


_STORED = {"uint8": np.uint8, "uint16": np.uint16, "float32": np.float32}


def decode_base64(text, origin):
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise WeightsError(f"{origin}: not valid base64 ({e})")


def _entry_layout(w):
    """(stored numpy dtype, element count, quantisation or None) of one manifest entry."""
    name = w.get("name", "?")
    shape = w.get("shape")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 1 for d in shape):
        raise WeightsError(f"manifest tensor {name}: shape {shape!r} is not a list of positive integers")
    if w.get("dtype") != "float32":
        raise WeightsError(f"manifest tensor {name}: dtype {w.get('dtype')!r}, expected float32")
    q = w.get("quantization")
    stored = q["dtype"] if q else "float32"
    if stored not in _STORED:
        raise WeightsError(f"manifest tensor {name}: quantisation dtype {stored!r} is not uint8, uint16 or float32")
    return np.dtype(_STORED[stored]), int(np.prod(shape, dtype=np.int64)), q


def dequantise(manifest_group, data, origin):
    """OrderedDict name -> float32 array (the manifest's shape) from one weights group's bytes.

    The manifest must account for every byte: a tensor whose element count does not match what
    the shards hold is a WeightsError, never a silent misalignment of every later tensor."""
    out = OrderedDict()
    offset = 0
    entries = manifest_group.get("weights", [])
    need = sum(_entry_layout(w)[0].itemsize * _entry_layout(w)[1] for w in entries)
    if need != len(data):
        raise WeightsError(f"{origin}: the manifest's {len(entries)} tensors need {need} bytes by their shapes, "
                           f"the shards hold {len(data)}")
    for w in entries:
        dtype, count, q = _entry_layout(w)
        raw = np.frombuffer(data, dtype=dtype.newbyteorder("<"), count=count, offset=offset)
        offset += count * dtype.itemsize
        if q:
            values = raw.astype(np.float64) * float(q["scale"]) + float(q["min"])
        else:
            values = raw.astype(np.float64)
        if w["name"] in out:
            raise WeightsError(f"{origin}: manifest tensor {w['name']} appears twice")
        out[w["name"]] = values.astype(np.float32).reshape(w["shape"])
    return out
