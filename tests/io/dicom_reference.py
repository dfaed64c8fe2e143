#!/usr/bin/python3
"""DICOM reference values for tests/io/dicom_decode_test.cc, from pydicom (Debian's python3-pydicom).

Usage: dicom_reference.py OUT_DIR

Writes into OUT_DIR files made here with pydicom (windows of each VOI LUT Function, MONOCHROME1,
signed values with a rescale, multi-frame, RLE, colour) and copies of pydicom's own test files,
and for each case NAME.f64: what thaw's rule (io/pixel_mapping.h) should give, in [0, 1], as
little-endian float64, height x width x channels. cases.txt lists one case a line:
NAME FILE FRAME WINDOW CHANNELS WIDTH HEIGHT, WINDOW being '-' for the file's own.

The pixel values are pydicom's (pixel_array, apply_modality_lut, apply_windowing,
convert_color_space); apply_windowing's output, in [y_min, y_max], is divided back to [0, 1].
A file pydicom cannot decode here is left out, not guessed at.
"""
import copy
import os
import shutil
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.pixel_data_handlers.util import apply_modality_lut, apply_windowing, convert_color_space
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid

OUT = sys.argv[1]
TEST_FILES = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
cases = []


def new_dataset(rows, cols, bits, signed, photometric="MONOCHROME2", samples=1, frames=1):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=["thaw", str(rows), str(cols), photometric])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 8 if bits <= 8 else 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 1 if signed else 0
    if samples == 3:
        ds.PlanarConfiguration = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    return ds


def set_pixels(ds, arr):
    dtype = {(8, 0): np.uint8, (16, 0): np.uint16, (16, 1): np.int16}[(ds.BitsAllocated, ds.PixelRepresentation)]
    ds.PixelData = np.ascontiguousarray(arr.astype(dtype)).tobytes()


def grey_expected(ds, frame, window):
    arr = ds.pixel_array
    if int(ds.get("NumberOfFrames", 1)) > 1:
        arr = arr[frame]
    values = apply_modality_lut(arr, ds).astype("float64")
    if window is not None:
        ds = copy.deepcopy(ds)
        ds.WindowCenter, ds.WindowWidth = window
    if "WindowCenter" in ds and "WindowWidth" in ds:
        y_min, y_max = (0, 2 ** ds.BitsStored - 1) if ds.PixelRepresentation == 0 else (
            -(2 ** (ds.BitsStored - 1)), 2 ** (ds.BitsStored - 1) - 1)
        if "RescaleSlope" in ds and "RescaleIntercept" in ds:
            y_min = y_min * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
            y_max = y_max * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        y = (apply_windowing(values.copy(), ds) - y_min) / (y_max - y_min)
    else:
        lo, hi = values.min(), values.max()
        y = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        y = 1 - y
    return y[..., None]


def colour_expected(ds, frame):
    arr = ds.pixel_array
    if int(ds.get("NumberOfFrames", 1)) > 1:
        arr = arr[frame]
    if ds.PhotometricInterpretation in ("YBR_FULL", "YBR_FULL_422"):
        arr = convert_color_space(arr, ds.PhotometricInterpretation, "RGB")
    return arr.astype("float64") / (2 ** ds.BitsStored - 1)


def add(name, ds, frame=0, window=None, source=None):
    """Writes the case; ds is the dataset pydicom reads back from the file (source, or saved here)."""
    path = os.path.join(OUT, name + ".dcm")
    if source is None:
        ds.save_as(path, write_like_original=False)
    else:
        shutil.copyfile(source, path)
    ds = pydicom.dcmread(path)
    try:
        y = grey_expected(ds, frame, window) if ds.SamplesPerPixel == 1 else colour_expected(ds, frame)
    except Exception as e:  # no handler for this transfer syntax here: leave the case out
        print(f"dicom_reference: {name} left out: {e}", file=sys.stderr)
        return
    y.astype("<f8").tofile(os.path.join(OUT, name + ".f64"))
    w = "-" if window is None else f"{window[0]},{window[1]}"
    cases.append(f"{name} {name}.dcm {frame} {w} {y.shape[2]} {y.shape[1]} {y.shape[0]}")


rng = np.random.default_rng(20261206)

# Signed CT values with a rescale and the file's window (LINEAR).
ct = new_dataset(24, 20, 12, True)
ct.RescaleSlope, ct.RescaleIntercept = "1.5", "-1024"
ct.WindowCenter, ct.WindowWidth = "40", "400"
set_pixels(ct, rng.integers(-2048, 2048, (24, 20)))
add("ct_linear", ct)
add("ct_window_given", ct, window=(-600, 1500))
add("ct_window_narrow", ct, window=(10.5, 1))

exact = copy.deepcopy(ct)
exact.VOILUTFunction = "LINEAR_EXACT"
exact.WindowWidth = "0.75"
set_pixels(exact, rng.integers(-40, 40, (24, 20)))
exact.RescaleSlope, exact.RescaleIntercept = "0.01", "0"
add("linear_exact", exact)

sig = copy.deepcopy(ct)
sig.VOILUTFunction = "SIGMOID"
add("sigmoid", sig)

# MONOCHROME1 without a window: scaled from the lowest to the highest value, then inverted.
m1 = new_dataset(17, 31, 16, False, photometric="MONOCHROME1")
set_pixels(m1, rng.integers(100, 60000, (17, 31)))
add("mono1_minmax", m1)

# 12 of 16 bits, three frames; frame 2 read.
mf = new_dataset(9, 11, 12, False, frames=3)
mf.WindowCenter, mf.WindowWidth = ["2048", "1000"], ["4096", "500"]  # the first of several is used
set_pixels(mf, rng.integers(0, 4096, (3, 9, 11)))
add("multiframe_0", mf, frame=0)
add("multiframe_2", mf, frame=2)

# The CT values again, RLE Lossless (pydicom's own encoder).
rle = copy.deepcopy(ct)
rle.compress(RLELossless, encoding_plugin="pydicom")
add("ct_rle", rle)

# 8-bit grey, and colour: RGB and YBR_FULL.
g8 = new_dataset(13, 7, 8, False)
set_pixels(g8, rng.integers(0, 256, (13, 7)))
add("grey8_minmax", g8)
rgb = new_dataset(6, 10, 8, False, photometric="RGB", samples=3)
set_pixels(rgb, rng.integers(0, 256, (6, 10, 3)))
add("rgb8", rgb)
rgb16 = new_dataset(5, 9, 16, False, photometric="RGB", samples=3)
set_pixels(rgb16, rng.integers(0, 65536, (5, 9, 3)))
add("rgb16", rgb16)
ybr = new_dataset(6, 10, 8, False, photometric="YBR_FULL", samples=3)
set_pixels(ybr, rng.integers(0, 256, (6, 10, 3)))
add("ybr_full8", ybr)

# pydicom's own test files, real scanners' among them.
for name, frame in [("CT_small", 0), ("MR_small", 0), ("MR_small_RLE", 0), ("MR_small_bigendian", 0),
                    ("MR_small_implicit", 0), ("MR_small_jp2klossless", 0),
                    ("JPEG2000", 0), ("SC_rgb_rle", 0), ("SC_rgb_rle_2frame", 1),
                    ("SC_rgb_small_odd", 0), ("SC_ybr_full_422_uncompressed", 0)]:
    src = os.path.join(TEST_FILES, name + ".dcm")
    if os.path.exists(src):
        add("pydicom_" + name, None, frame=frame, source=src)

# Files thaw must refuse, not cases: MPEG-2 video (no decoder here reads it) and no pixel data.
mpeg = new_dataset(16, 16, 8, False)
mpeg.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"
mpeg.PixelData = encapsulate([b"\x00\x00\x01\xb3" + bytes(60)])
mpeg["PixelData"].is_undefined_length = True
mpeg["PixelData"].VR = "OB"
mpeg.save_as(os.path.join(OUT, "mpeg2.dcm"), write_like_original=False)
bare = new_dataset(16, 16, 8, False)
bare.save_as(os.path.join(OUT, "no_pixels.dcm"), write_like_original=False)

with open(os.path.join(OUT, "cases.txt"), "w") as f:
    f.write("\n".join(cases) + "\n")
