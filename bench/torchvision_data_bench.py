#!/usr/bin/python3
"""PIL + torchvision reference for bench/data_bench.cc: the same files, the same work per image.

Training: PIL decode (Image.open(...).convert("RGB"), as torchvision's ImageFolder loads), then
RandomResizedCrop(size, scale 0.08-1, ratio 3/4-4/3), horizontal and vertical flips, a rotation by a
multiple of 90 degrees, ColorJitter(brightness 0.2, contrast 0.2), ToTensor, Normalize(0.5, 0.5):
thaw's training augmentation step for step. Evaluation: Resize(floor(size / 0.875)),
CenterCrop(size), ToTensor, Normalize. One worker runs in this process with torch.set_num_threads(1);
more run as persistent DataLoader worker processes (the usual way), one torch thread each, started and
warmed up by an untimed pass before the timed ones.

Prints one JSON object per case: {"case", "workers", "images", "seconds", "images_per_s",
"images_per_cpu_s"}; the CPU time is this process's and its worker processes' (user + system, from
/proc/PID/stat).
"""
import argparse
import csv
import json
import os
import random
import resource
import time

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T


class Rot90:
    def __call__(self, img):
        k = random.randrange(4)
        return img if k == 0 else img.transpose([Image.ROTATE_90, Image.ROTATE_180, Image.ROTATE_270][k - 1])


def transform(kind, size):
    norm = [T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)]
    if kind == "train":
        return T.Compose([T.RandomResizedCrop(size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)), T.RandomHorizontalFlip(),
                          T.RandomVerticalFlip(), Rot90(), T.ColorJitter(brightness=0.2, contrast=0.2)] + norm)
    return T.Compose([T.Resize(size * 8 // 7), T.CenterCrop(size)] + norm)


class Files(Dataset):
    def __init__(self, paths, tf):
        self.paths, self.tf = paths, tf

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        with open(self.paths[i], "rb") as f:
            img = Image.open(f).convert("RGB")
        return self.tf(img)


def one_thread(_):
    torch.set_num_threads(1)


def cpu_seconds(pids):
    total = 0.0
    for pid in pids:
        fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def run(paths, kind, size, workers, min_seconds):
    ds = Files(paths, transform(kind, size))
    if workers <= 1:
        passes, pids = lambda: [ds[i] for i in range(len(ds))], [os.getpid()]
        passes()
    else:
        loader = DataLoader(ds, batch_size=32, num_workers=workers, worker_init_fn=one_thread, persistent_workers=True)
        passes = lambda: [None for _ in loader]
        passes()  # starts the workers
        pids = [os.getpid()] + [w.pid for w in loader._iterator._workers]
    done, t0, c0 = 0, time.perf_counter(), cpu_seconds(pids)
    while True:
        passes()
        done += len(ds)
        elapsed = time.perf_counter() - t0
        if elapsed >= min_seconds:
            return done, elapsed, cpu_seconds(pids) - c0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True, help="manifest with a path column (relative to the CSV's folder)")
    ap.add_argument("--size", type=int, default=299)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--min-seconds", type=float, default=2.0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    random.seed(0)
    torch.manual_seed(0)
    base = os.path.dirname(os.path.abspath(a.csv))
    with open(a.csv, newline="") as f:
        paths = [os.path.join(base, r["path"]) for r in csv.DictReader(f)]
    for kind in ("train", "eval"):
        n, s, cpu = run(paths, kind, a.size, a.workers, a.min_seconds)
        print(json.dumps({"case": kind, "workers": a.workers, "images": n, "seconds": s, "images_per_s": n / s,
                          "images_per_cpu_s": n / cpu}))


if __name__ == "__main__":
    main()
