#!/usr/bin/python3
# Copyright the jsteer authors.
# SPDX-License-Identifier: Apache-2.0
"""Reference values for the pca, probe and cast unit tests of the steering module, computed
offline with numpy alone (Debian's /usr/bin/python3, numpy 1.24). Nothing here is shared with the
Java code under test, and the build never runs this script:

    /usr/bin/python3 make_reference.py > reference.json

pca:   repeng's read_representations (github.com/vgel/repeng, repeng/extract.py) for pca_diff and
       pca_center, with scikit-learn's PCA(n_components=1) written out as numpy: centre the
       columns, SVD, first right singular vector; its sign made deterministic first (largest
       |entry| positive, lowest index among equals), then repeng's vote over pairs.
probe: L2 logistic regression, scikit-learn's objective
       sum_i log(1 + exp(-s_i (w.x_i + b))) + (lam / 2) |w|^2 (b unpenalised, s_i = +-1),
       minimised by plain Newton steps on the dense Hessian (np.linalg.solve).
cast:  IBM activation-steering (activation_steering/leash_layer.py, malleable_model.py):
       sim = cos(h, tanh(P h)) with P = c c^T / (c.c), and find_best_condition_point's grid
       (thresholds np.arange(0, 1, 0.01), comparator larger/smaller, best F1 kept on a strict
       improvement, threshold rounded to 3 decimals).
"""
import json
import sys

import numpy as np

rng = np.random.default_rng(20261206)


def pca_first(train):
    x = train - train.mean(axis=0)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    v = vt[0].copy()
    i = int(np.argmax(np.abs(v)))
    if v[i] < 0:
        v = -v
    return v, float(s[0] ** 2 / np.sum(s ** 2))


def repeng(hp, hn, method):
    n, d = hp.shape
    h = np.empty((2 * n, d))
    h[::2] = hp
    h[1::2] = hn
    if method == "pca_diff":
        train = h[::2] - h[1::2]
    else:
        center = (h[::2] + h[1::2]) / 2
        train = h.copy()
        train[::2] -= center
        train[1::2] -= center
    v, ratio = pca_first(train)
    proj = h @ v / np.linalg.norm(v)
    smaller = np.mean([proj[i] < proj[i + 1] for i in range(0, 2 * n, 2)])
    larger = np.mean([proj[i] > proj[i + 1] for i in range(0, 2 * n, 2)])
    flipped = bool(smaller > larger)
    if flipped:
        v = -v
    return {"direction": v.tolist(), "explained_variance_ratio": ratio, "flipped": flipped}


def pca_case(name, hp, hn):
    return {"name": name, "positive": hp.tolist(), "negative": hn.tolist(),
            "pca_diff": repeng(hp, hn, "pca_diff"), "pca_center": repeng(hp, hn, "pca_center")}


def logistic(x, labels, lam, intercept):
    n, d = x.shape
    a = np.hstack([x, np.ones((n, 1))]) if intercept else x
    y = labels.astype(float)
    reg = lam * np.eye(a.shape[1])
    if intercept:
        reg[-1, -1] = 0
    w = np.zeros(a.shape[1])
    for _ in range(200):
        p = 1 / (1 + np.exp(-(a @ w)))
        g = a.T @ (p - y) + reg @ w
        hess = a.T @ (a * (p * (1 - p))[:, None]) + reg
        step = np.linalg.solve(hess, g)
        w = w - step
        if np.max(np.abs(step)) < 1e-15 * (1 + np.max(np.abs(w))):
            break
    p = 1 / (1 + np.exp(-(a @ w)))
    g = a.T @ (p - y) + reg @ w
    assert np.max(np.abs(g)) < 1e-10, np.max(np.abs(g))
    return (w[:-1] if intercept else w), (float(w[-1]) if intercept else 0.0)


def accuracy(x, labels, w, b):
    return float(np.mean(((x @ w + b) > 0) == labels))


def probe_case(name, x, labels, xt, lt, lam, intercept):
    w, b = logistic(x, labels, lam, intercept)
    return {"name": name, "x": x.tolist(), "labels": labels.tolist(), "lambda": lam, "intercept": intercept,
            "weights": w.tolist(), "bias": b, "train_accuracy": accuracy(x, labels, w, b),
            "test_x": xt.tolist(), "test_labels": lt.tolist(), "test_accuracy": accuracy(xt, lt, w, b)}


def cast_similarity(h, c):
    proj = np.outer(c, c) / np.dot(c, c)
    t = np.tanh(proj @ h)
    return float(np.dot(h, t) / (np.linalg.norm(h) * np.linalg.norm(t)))


def f1(truth, pred):
    tp = int(np.sum(truth & pred))
    fp = int(np.sum(~truth & pred))
    fn = int(np.sum(truth & ~pred))
    return 0.0 if 2 * tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def cast_case(name, hp, hn):
    c = np.array(repeng(hp, hn, "pca_center")["direction"])
    sims = [cast_similarity(h, c) for h in np.vstack([hp, hn])]
    truth = np.array([True] * len(hp) + [False] * len(hn))
    best, config = 0.0, None
    for t in np.arange(0.0, 1.0, 0.01):
        for comparator in ("larger", "smaller"):
            pred = np.array([(s > t) == (comparator == "smaller") for s in sims])
            score = f1(truth, pred)
            if score > best:
                best, config = score, (float(t), comparator)
    return {"name": name, "positive": hp.tolist(), "negative": hn.tolist(), "condition": c.tolist(), "similarities": sims,
            "threshold": round(config[0], 3), "comparator": config[1], "f1": best}


def main():
    d = 6
    # a planted direction u: every positive = its negative + a_i u + a little noise
    u = rng.normal(size=d)
    u /= np.linalg.norm(u)
    n = 9
    hn = rng.normal(size=(n, d)) * 2
    a = rng.uniform(0.5, 3.0, size=n)
    hp = hn + a[:, None] * u + 0.05 * rng.normal(size=(n, d))
    pca = [pca_case("planted", hp, hn)]
    # 5 pairs step a little along +u, 4 pairs a lot along -u: the mean says -u, repeng's vote +u
    a2 = np.array([0.3, 0.35, 0.4, 0.45, 0.5, -2.0, -2.5, -3.0, -3.5])
    hp2 = hn + a2[:, None] * u + 0.02 * rng.normal(size=(n, d))
    pca.append(pca_case("vote-not-mean", hp2, hn))

    probes = []
    w_true = rng.normal(size=5)
    x = rng.normal(size=(40, 5))
    labels = (x @ w_true + 0.3 + rng.normal(size=40) * 1.5) > 0
    xt = rng.normal(size=(25, 5))
    lt = (xt @ w_true + 0.3) > 0
    probes.append(probe_case("l2=1", x, labels, xt, lt, 1.0, True))
    probes.append(probe_case("l2=0.1", x, labels, xt, lt, 0.1, True))
    probes.append(probe_case("l2=2, no intercept", x, labels, xt, lt, 2.0, False))
    # separable classes: only the penalty keeps w finite
    xs = rng.normal(size=(12, 5)) + np.where(np.arange(12)[:, None] < 6, 2.0, -2.0) * w_true / np.linalg.norm(w_true)
    ls = np.arange(12) < 6
    probes.append(probe_case("separable, l2=0.05", xs, ls, xt, lt, 0.05, True))

    # condition data: positives lie near +-c (so tanh saturates), negatives off it
    c = rng.normal(size=d)
    c /= np.linalg.norm(c)
    m = 8
    cp = rng.normal(size=(m, d)) * 0.6 + np.outer(rng.choice([-1, 1], size=m) * rng.uniform(2, 4, size=m), c)
    cn = rng.normal(size=(m, d)) * 2.0
    cast = [cast_case("condition", cp, cn)]

    json.dump({"generator": "make_reference.py, numpy " + np.__version__, "pca": pca, "probe": probes, "cast": cast}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
