#!/usr/bin/env bash
# Data-loading benchmarks on real dermoscopy JPEGs (not in CI): thaw's decode + augmentation
# against PIL + torchvision on the same files and the same cores (1 core, then 2, pinned with
# taskset), and a pack against the JPEGs it was made from. Prints a markdown table with the ratios.
#
# usage: bench/data_bench.sh [BUILD_DIR (default build)] [IMAGES_FROM_ISIC2017 (default 500)]
# Needs: thaw and thaw_bench_ops built in BUILD_DIR; Debian's python3-torchvision (installed here
# when missing). The images are read where they lie (THAW_DERMOSCOPY, default
# /work/shared/data/dermoscopy); packs and manifests go to a temporary folder, removed at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
count=${2:-500}
data=${THAW_DERMOSCOPY:-/work/shared/data/dermoscopy}
[ -x "$build/thaw" ] && [ -x "$build/thaw_bench_ops" ] || { echo "build thaw and thaw_bench_ops in $build first" >&2; exit 2; }
[ -d "$data/isic2017_256px" ] || { echo "no dermoscopy data at $data (set THAW_DERMOSCOPY)" >&2; exit 2; }
if ! /usr/bin/python3 -c "import torchvision" 2>/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-torchvision
fi
work=$(mktemp -d /tmp/thaw-data-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
export OMP_WAIT_POLICY=passive

# Two sets: the first COUNT ISIC 2017 training images (256 x 256, ~7 KB JPEGs) and the 89
# full-resolution UDA-1 photographs (679 x 566 to 3072 x 2304). Manifests with absolute paths.
/usr/bin/python3 - "$data" "$work" "$count" <<'PY'
import csv, os, sys
data, work, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
def write(name, rows):
    with open(os.path.join(work, name + ".csv"), "w", newline="") as f:
        w = csv.writer(f); w.writerow(["path", "label"]); w.writerows(rows)
with open(os.path.join(data, "isic2017_256px/labels.csv")) as f:
    rows = [r for r in csv.DictReader(f) if r["split"] == "train"]
write("isic2017", [(os.path.join(data, "isic2017_256px", r["file"]), r["label"]) for r in rows[:count]])
with open(os.path.join(data, "isic_uda1_fullres/metadata.csv")) as f:
    rows = list(csv.DictReader(f))
write("uda1", [(os.path.join(data, "isic_uda1_fullres", r["file"]), r["label"]) for r in rows])
PY

for set in isic2017 uda1; do
  "$build/thaw" pack "$work/$set.csv" --input-size 299 --out "$work/$set.pack" >/dev/null
  for cores in 1 2; do
    cpus=$( [ $cores -eq 1 ] && echo 0 || echo 0,1 )
    filter="BM_Data(Images|Pack)(Train|Eval)/$cores/"
    [ $cores -eq 1 ] && filter="$filter|BM_DataDecodeSources|BM_DataReadPack"
    echo "bench: $set on $cores core(s)" >&2
    THAW_BENCH_DATA="$work/$set.csv" THAW_BENCH_PACK="$work/$set.pack" taskset -c $cpus \
      "$build/thaw_bench_ops" --benchmark_filter="$filter" --benchmark_format=json >"$work/thaw-$set-$cores.json"
    taskset -c $cpus /usr/bin/python3 "$root/bench/torchvision_data_bench.py" --csv "$work/$set.csv" \
      --workers $cores >"$work/tv-$set-$cores.json"
  done
done

/usr/bin/python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
def thaw(set_, cores):
    out = {}
    for b in json.load(open(os.path.join(work, "thaw-%s-%d.json" % (set_, cores))))["benchmarks"]:
        out[b["name"].split("/")[0].replace("BM_Data", "")] = (b["items_per_second"], b["img_per_cpu_s"])
    return out
def tv(set_, cores):
    rows = map(json.loads, open(os.path.join(work, "tv-%s-%d.json" % (set_, cores))))
    return {j["case"]: (j["images_per_s"], j["images_per_cpu_s"]) for j in rows}
print("Decode + augmentation (train) or + evaluation preprocessing (eval) at 299, images/s of wall time and")
print("images per CPU-second (all threads or processes; per core):")
print()
print("| set | cores | case | thaw img/s | torchvision img/s | ratio (wall) | thaw img/CPU-s | torchvision img/CPU-s | ratio per core |")
print("|---|---|---|---|---|---|---|---|---|")
for s in ("isic2017", "uda1"):
    for c in (1, 2):
        t, p = thaw(s, c), tv(s, c)
        for case, key in (("train", "ImagesTrain"), ("eval", "ImagesEval")):
            (tw, tc), (pw, pc) = t[key], p[case]
            print("| %s | %d | %s | %.0f | %.0f | %.2fx | %.0f | %.0f | %.2fx |" % (s, c, case, tw, pw, tw / pw, tc, pc, tc / pc))
print()
print("Pack against the JPEGs it came from, one core (read: stored pixels out of the mapped shard vs file read +")
print("decode at the stored size; train/eval: the whole load of a sample):")
print()
print("| set | case | pack img/s | JPEG img/s | ratio (wall) | pack img/CPU-s | JPEG img/CPU-s | ratio (CPU) |")
print("|---|---|---|---|---|---|---|---|")
for s in ("isic2017", "uda1"):
    t = thaw(s, 1)
    for case, a, b in (("read vs decode", "ReadPack", "DecodeSources"), ("train", "PackTrain", "ImagesTrain"),
                       ("eval", "PackEval", "ImagesEval")):
        (aw, ac), (bw, bc) = t[a], t[b]
        print("| %s | %s | %.0f | %.0f | %.1fx | %.0f | %.0f | %.1fx |" % (s, case, aw, bw, aw / bw, ac, bc, ac / bc))
PY
