#!/usr/bin/python3
"""Reference values for thaw's statistics (stats/), from scipy, statsmodels and scikit-learn.

Run once by hand; its outputs are committed and the C++ tests compare against them to 1e-9:
    /usr/bin/python3 scripts/make_stats_reference.py            # writes tests/stats/data/reference.json
    /usr/bin/python3 scripts/make_stats_reference.py --make-data # also (re)writes the prediction CSVs

Needs Debian's python3-numpy python3-scipy python3-sklearn python3-statsmodels (not needed by CI).

Where the libraries have no function, the value is computed here from its definition and checked
against an independent route: DeLong's variance via midranks (Sun & Xu 2014) against the O(m n)
pairwise placements, its AUC against sklearn's roc_auc_score; specificity and NPV from the
confusion matrix. Traps: statsmodels' multipletests defaults to Holm-Sidak, so method='holm' is
named; DeLong intervals are clipped to [0, 1].
"""
import argparse
import csv
import json
import os

import numpy as np
from scipy import stats
from scipy.stats import chi2_contingency
from sklearn.calibration import calibration_curve
from sklearn.metrics import (average_precision_score, balanced_accuracy_score, brier_score_loss, confusion_matrix,
                             f1_score, precision_recall_curve, precision_score, recall_score, roc_auc_score, roc_curve)
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "stats", "data")
ALPHA = 0.05
RESERVED = {"label", "predicted", "group", "hash", "path"}


# ---------------------------------------------------------------- test data (seeded, rounded)

def softmax_rows(logits, decimals):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = np.round(e / e.sum(axis=1, keepdims=True), decimals)
    # The largest absorbs the rounding, so rows sum to 1 as sklearn's multiclass AUC demands.
    top = p.argmax(axis=1)
    rows = np.arange(len(p))
    p[rows, top] = np.round(1 - (p.sum(axis=1) - p[rows, top]), decimals)
    return p


def write_csv(name, header, rows):
    with open(os.path.join(DATA, name), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def fmt(v, decimals):
    return f"{v:.{decimals}f}"


def make_data():
    os.makedirs(DATA, exist_ok=True)
    rng = np.random.default_rng(20240611)
    classes = ["benign", "malignant", "normal"]
    n = 150
    labels = rng.integers(0, 3, size=n)
    hashes = [f"{int(h):016x}" for h in rng.integers(0, 2**63, size=n)]
    # Model A: a fair signal; model B: weaker, so that the comparison has something to find.
    for name, signal, order in (("three_class_a.csv", 1.6, np.arange(n)), ("three_class_b.csv", 0.9, rng.permutation(n))):
        logits = rng.normal(size=(n, 3))
        logits[np.arange(n), labels] += signal
        probs = softmax_rows(logits, 4)
        rows = []
        for i in order:
            pred = int(np.argmax(probs[i]))
            rows.append([hashes[i], classes[labels[i]], classes[pred]] + [fmt(v, 4) for v in probs[i]])
        write_csv(name, ["hash", "label", "predicted"] + classes, rows)

    # Binary, two decimals: many tied scores, which the midranks must handle.
    n = 120
    labels = (rng.random(n) < 0.35).astype(int)
    score = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.4 * (2 * labels - 1))))
    p1 = np.round(score, 2)
    rows = [[f"img/{i:04d}.png", ["negative", "positive"][labels[i]], ["negative", "positive"][int(p1[i] >= 0.5)],
             fmt(1 - p1[i], 2), fmt(p1[i], 2)] for i in range(n)]
    write_csv("binary.csv", ["path", "label", "predicted", "negative", "positive"], rows)

    # Grouped: 20 patients with 2 to 6 images each; a patient's images share most of their signal.
    classes = ["a", "b", "c"]
    rows = []
    for g in range(20):
        label = int(rng.integers(0, 3))
        patient = rng.normal(size=3)
        for _ in range(int(rng.integers(2, 7))):
            logits = patient + 0.5 * rng.normal(size=3)
            logits[label] += 1.2
            p = softmax_rows(logits[None, :], 3)[0]
            rows.append([classes[label], classes[int(np.argmax(p))]] + [fmt(v, 3) for v in p] + [f"patient{g:02d}"])
    write_csv("grouped.csv", ["label", "predicted"] + classes + ["group"], rows)


# ---------------------------------------------------------------- reading back what thaw reads

def read_predictions(name):
    with open(os.path.join(DATA, name), newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    classes = [h for h in header if h not in RESERVED]
    cols = [header.index(c) for c in classes]
    li, pi = header.index("label"), header.index("predicted")
    out = {
        "classes": classes,
        "y": np.array([classes.index(r[li]) for r in body]),
        "pred": np.array([classes.index(r[pi]) for r in body]),
        "p": np.array([[float(r[c]) for c in cols] for r in body]),
    }
    for key in ("hash", "path", "group"):
        if key in header:
            out[key] = [r[header.index(key)] for r in body]
    return out


# ---------------------------------------------------------------- statistics

def intervals(k, n):
    w = proportion_confint(k, n, alpha=ALPHA, method="wilson")
    e = proportion_confint(k, n, alpha=ALPHA, method="beta")
    return {"k": int(k), "n": int(n), "estimate": k / n if n else None,
            "wilson": [float(w[0]), float(w[1])] if n else None, "exact": [float(e[0]), float(e[1])] if n else None}


def placements_midrank(scores, positive):
    x, y = scores[positive], scores[~positive]
    m, n = len(x), len(y)
    rz = stats.rankdata(np.concatenate([x, y]), method="average")
    v10 = (rz[:m] - stats.rankdata(x, method="average")) / n
    v01 = 1 - (rz[m:] - stats.rankdata(y, method="average")) / m
    return v10, v01


def placements_pairwise(scores, positive):
    x, y = scores[positive], scores[~positive]
    psi = (x[:, None] > y[None, :]) + 0.5 * (x[:, None] == y[None, :])
    return psi.mean(axis=1), psi.mean(axis=0)


def delong(scores, positive):
    v10, v01 = placements_midrank(scores, positive)
    b10, b01 = placements_pairwise(scores, positive)
    assert np.allclose(v10, b10, atol=1e-14, rtol=0) and np.allclose(v01, b01, atol=1e-14, rtol=0)
    auc = v10.mean()
    sk = roc_auc_score(positive.astype(int), scores)
    assert abs(auc - sk) < 1e-12, (auc, sk)
    se = np.sqrt(np.var(v10, ddof=1) / len(v10) + np.var(v01, ddof=1) / len(v01))
    z = stats.norm.isf(ALPHA / 2)
    return {"estimate": float(sk), "se": float(se), "lo": float(max(0.0, auc - z * se)),
            "hi": float(min(1.0, auc + z * se)), "positives": int(positive.sum()), "negatives": int((~positive).sum())}


def delong_paired(sa, sb, positive):
    a10, a01 = placements_midrank(sa, positive)
    b10, b01 = placements_midrank(sb, positive)
    s10 = np.cov(np.vstack([a10, b10]), ddof=1)
    s01 = np.cov(np.vstack([a01, b01]), ddof=1)
    s = s10 / len(a10) + s01 / len(a01)
    var = s[0, 0] + s[1, 1] - 2 * s[0, 1]
    auc_a, auc_b = roc_auc_score(positive, sa), roc_auc_score(positive, sb)
    se = float(np.sqrt(var))
    z = (auc_a - auc_b) / se
    return {"auc_a": float(auc_a), "auc_b": float(auc_b), "difference": float(auc_a - auc_b), "se": se,
            "z": float(z), "p": float(2 * stats.norm.sf(abs(z)))}


def file_reference(name):
    d = read_predictions(name)
    y, pred, p, k = d["y"], d["pred"], d["p"], len(d["classes"])
    labels = list(range(k))
    cm = confusion_matrix(y, pred, labels=labels)
    sens = recall_score(y, pred, labels=labels, average=None)
    ppv = precision_score(y, pred, labels=labels, average=None)
    f1 = f1_score(y, pred, labels=labels, average=None)
    per_class, specs, npvs, aucs = [], [], [], []
    for c in labels:
        tp = cm[c, c]
        fn = cm[c].sum() - tp
        fp = cm[:, c].sum() - tp
        tn = cm.sum() - tp - fn - fp
        assert abs(sens[c] - tp / (tp + fn)) < 1e-15 and abs(ppv[c] - tp / (tp + fp)) < 1e-15
        auc = delong(p[:, c], y == c)
        specs.append(tn / (tn + fp))
        npvs.append(tn / (tn + fn))
        aucs.append(auc["estimate"])
        per_class.append({"class": d["classes"][c], "tp": int(tp), "fp": int(fp), "fn": int(fn), "tn": int(tn),
                          "sensitivity": intervals(tp, tp + fn), "specificity": intervals(tn, tn + fp),
                          "ppv": intervals(tp, tp + fp), "npv": intervals(tn, tn + fn), "f1": float(f1[c]),
                          "auc": auc})
    macro_auc = roc_auc_score(y, p, multi_class="ovr", average="macro") if k > 2 else roc_auc_score(y, p[:, 1])
    assert abs(macro_auc - np.mean(aucs)) < 1e-12
    return {
        "classes": d["classes"], "samples": int(len(y)), "confusion": cm.tolist(),
        "accuracy": intervals(int((y == pred).sum()), len(y)),
        "balanced_accuracy": float(balanced_accuracy_score(y, pred)),
        "macro": {"sensitivity": float(recall_score(y, pred, average="macro")), "specificity": float(np.mean(specs)),
                  "ppv": float(precision_score(y, pred, average="macro")), "npv": float(np.mean(npvs)),
                  "f1": float(f1_score(y, pred, average="macro")), "auc": float(macro_auc)},
        "per_class": per_class,
    }


def binary_view(name, positive, threshold):
    d = read_predictions(name)
    c = d["classes"].index(positive)
    truth = d["y"] == c
    called = d["p"][:, c] >= threshold
    tp, fp = int((truth & called).sum()), int((~truth & called).sum())
    fn, tn = int((truth & ~called).sum()), int((~truth & ~called).sum())
    return {"file": name, "positive": positive, "threshold": threshold, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "sensitivity": intervals(tp, tp + fn), "specificity": intervals(tn, tn + fp),
            "ppv": intervals(tp, tp + fp), "npv": intervals(tn, tn + fn),
            "accuracy": intervals(tp + tn, len(truth)), "auc": delong(d["p"][:, c], truth)}


def comparison(name_a, name_b):
    a, b = read_predictions(name_a), read_predictions(name_b)
    order = [b["hash"].index(h) for h in a["hash"]]
    assert a["classes"] == b["classes"] and (b["y"][order] == a["y"]).all()
    ok_a, ok_b = a["pred"] == a["y"], b["pred"][order] == a["y"]
    table = [[int((ok_a & ok_b).sum()), int((ok_a & ~ok_b).sum())], [int((~ok_a & ok_b).sum()), int((~ok_a & ~ok_b).sum())]]
    mc = mcnemar(table, exact=True)
    tests = [delong_paired(a["p"][:, c], b["p"][order][:, c], a["y"] == c) for c in range(len(a["classes"]))]
    pvals = [float(mc.pvalue)] + [t["p"] for t in tests]
    holm = multipletests(pvals, alpha=ALPHA, method="holm")[1]
    for t, c, h in zip(tests, a["classes"], holm[1:]):
        t["class"], t["p_holm"] = c, float(h)
    return {"a": name_a, "b": name_b, "samples": len(order),
            "mcnemar": {"both_correct": table[0][0], "only_a_correct": table[0][1], "only_b_correct": table[1][0],
                        "both_wrong": table[1][1], "p": float(mc.pvalue), "p_holm": float(holm[0])},
            "delong": tests}


def exact_half_widths(p, n):
    n = n.astype(float)
    k = p * n
    lo = np.where(k > 0, stats.beta.ppf(ALPHA / 2, k, n - k + 1), 0.0)
    hi = np.where(k < n, stats.beta.isf(ALPHA / 2, k + 1, n - k), 1.0)
    return (hi - lo) / 2


def sample_size(metric, expected, half_width, prevalence):
    z = stats.norm.isf(ALPHA / 2)
    normal = int(np.ceil(z * z * expected * (1 - expected) / (half_width * half_width)))
    ns = np.arange(1, 200000)
    hw = exact_half_widths(expected, ns)
    exact = int(ns[np.argmax(hw <= half_width)])  # first n, by exhaustive search
    share = prevalence if metric == "sensitivity" else 1 - prevalence
    total = lambda cases: int(np.ceil(cases / share - 1e-9))
    return {"metric": metric, "expected": expected, "half_width": half_width, "prevalence": prevalence,
            "normal_cases": normal, "normal_total": total(normal), "exact_cases": exact, "exact_total": total(exact),
            "exact_half_width": float(hw[exact - 1])}


def curves(name, positive, bins=10):
    """ROC and PR curves, Youden's point, reliability and Brier of one class's score; `positive` None:
    the top-label view (highest probability, prediction right)."""
    d = read_predictions(name)
    if positive is None:
        score = d["p"].max(axis=1)
        y = (d["pred"] == d["y"]).astype(int)
    else:
        c = d["classes"].index(positive)
        score = d["p"][:, c]
        y = (d["y"] == c).astype(int)
    fpr, tpr, thr = roc_curve(y, score, drop_intermediate=False)
    prec, rec, pthr = precision_recall_curve(y, score)
    j = int(np.argmax(tpr - fpr))  # first maximum: the highest threshold among ties
    prob_true, prob_pred = calibration_curve(y, score, n_bins=bins, strategy="uniform")
    counts = np.bincount(np.searchsorted(np.linspace(0.0, 1.0, bins + 1)[1:-1], score), minlength=bins)
    counts = counts[counts != 0]
    ece = float(np.sum(counts / len(score) * np.abs(prob_true - prob_pred)))
    out = {"file": name, "positive": positive, "bins": bins,
           "roc_fpr": fpr.tolist(), "roc_tpr": tpr.tolist(), "roc_thresholds": thr[1:].tolist(),
           "pr_precision": prec.tolist(), "pr_recall": rec.tolist(), "pr_thresholds": pthr.tolist(),
           "average_precision": float(average_precision_score(y, score)),
           "youden_threshold": float(thr[j]), "youden_j": float(tpr[j] - fpr[j]),
           "reliability_observed": prob_true.tolist(), "reliability_predicted": prob_pred.tolist(),
           "reliability_counts": counts.tolist(), "ece": ece,
           "brier": float(brier_score_loss(y, score))}
    if positive is not None:
        # The multi-class Brier score two ways: from its definition, and as the sum of the classes'.
        onehot = np.eye(len(d["classes"]))[d["y"]]
        out["multiclass_brier"] = float(np.mean(np.sum((d["p"] - onehot) ** 2, axis=1)))
        assert abs(out["multiclass_brier"] - sum(brier_score_loss((d["y"] == k).astype(int), d["p"][:, k])
                                                 for k in range(len(d["classes"])))) < 1e-12
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--make-data", action="store_true", help="(re)write the prediction CSVs first")
    args = ap.parse_args()
    if args.make_data:
        make_data()
    files = ["three_class_a.csv", "three_class_b.csv", "binary.csv", "grouped.csv"]
    ref = {
        "note": "made by scripts/make_stats_reference.py; compared by tests/stats to 1e-9",
        "confidence": 1 - ALPHA,
        "normal_quantile": float(stats.norm.isf(ALPHA / 2)),
        "proportions": [intervals(k, n) for k, n in
                        [(0, 10), (10, 10), (1, 1), (0, 1), (7, 20), (45, 50), (123, 200), (3, 1000), (999, 1000)]],
        "holm": [{"p": p, "adjusted": [float(v) for v in multipletests(p, alpha=ALPHA, method="holm")[1]]}
                 for p in ([0.01, 0.04, 0.03, 0.2], [0.02, 0.02, 0.5, 0.001], [0.3, 0.6, 0.9], [0.04])],
        "mcnemar": [{"only_a_correct": b, "only_b_correct": c,
                     "p": float(mcnemar([[10, b], [c, 5]], exact=True).pvalue)}
                    for b, c in [(0, 0), (5, 1), (12, 3), (30, 30), (1, 10), (100, 80), (0, 7)]],
        "sample_size": [sample_size(*a) for a in [("sensitivity", 0.9, 0.05, 0.2), ("specificity", 0.95, 0.03, 0.2),
                                                  ("sensitivity", 0.7, 0.1, 0.5), ("sensitivity", 0.99, 0.02, 0.1),
                                                  ("specificity", 0.8, 0.07, 0.35)]],
        "files": {f: file_reference(f) for f in files},
        "binary_views": [binary_view("three_class_a.csv", "malignant", 0.3), binary_view("binary.csv", "positive", 0.5),
                         binary_view("binary.csv", "positive", 0.62)],
        "comparisons": [comparison("three_class_a.csv", "three_class_b.csv")],
        "chi_square": [dict(zip(("table", "statistic", "p", "df", "min_expected"),
                                (t,) + tuple(float(v) if i != 2 else int(v)
                                             for i, v in enumerate(chi2_contingency(t, correction=False)[:3])) +
                                (float(chi2_contingency(t, correction=False)[3].min()),)))
                       for t in ([[10, 20], [30, 25]], [[5, 0, 3], [2, 7, 1]], [[100, 3], [90, 12], [40, 9]],
                                 [[1, 9], [9, 1]], [[12, 30, 7, 4], [20, 25, 9, 3]])],
        "curves": [curves("binary.csv", "positive"), curves("three_class_a.csv", "malignant"),
                   curves("three_class_a.csv", None), curves("three_class_b.csv", "normal", bins=7)],
    }
    with open(os.path.join(DATA, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print("wrote", os.path.join(DATA, "reference.json"))


if __name__ == "__main__":
    main()
