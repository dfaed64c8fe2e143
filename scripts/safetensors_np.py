"""safetensors by hand with numpy alone (the safetensors package is not in Debian): an 8-byte
little-endian header length, a JSON header (dtype, shape, data_offsets per tensor; string
metadata under "__metadata__"), then the raw little-endian tensor bytes. Shared by the scripts
that write weights for thaw (torch_inception_v4.py, import-nsfwjs).
"""
import json
import os
import struct

import numpy as np

_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64,
           "I32": np.int32, "U8": np.uint8}
_NAMES = {np.dtype(v).str.lstrip("<|"): k for k, v in _DTYPES.items()}


def _dtype_name(arr):
    return _NAMES[arr.dtype.newbyteorder("<").str.lstrip("<|")]


def write_atomic(path, write):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        write(f)
    os.replace(tmp, path)


def save_safetensors(tensors, path, metadata=None):
    """tensors: ordered dict name -> numpy array (written little-endian, C order)."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    blobs = []
    for name, arr in tensors.items():
        # asarray, not ascontiguousarray: the latter turns a 0-d scalar into shape [1].
        arr = np.asarray(arr, dtype=np.dtype(arr.dtype).newbyteorder("<"))
        header[name] = {"dtype": _dtype_name(arr), "shape": list(arr.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
        blobs.append(arr)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned

    def write(f):
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for arr in blobs:
            f.write(arr.tobytes(order="C"))
    write_atomic(path, write)


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(raw[8:8 + n].decode())
    data = memoryview(raw)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        arr = np.frombuffer(data[begin:end], dtype=dtype).reshape(info["shape"])
        out[name] = arr.astype(dtype.newbyteorder("="))
    return out
