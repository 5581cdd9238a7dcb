"""Real-data report for the 3D proxy body (docs/proxy_body.md): warp quality on Market-1501 pairs.

For N same-identity TRAINING pairs (seed-fixed), warp the source image by each method's flow and
compare with the target image on masked pixels: masked L1 (mean |difference| on a 0..1 scale over
the masked pixels and the 3 channels) and masked SSIM (scikit-image SSIM map, default 7x7 uniform
window, data range 255, averaged over the masked pixels and channels). Methods, all measured in one
run: no warp (the source as it is), a per-limb affine warp from keypoints, the proxy body, and the
proxy body with part widths fitted to the source's person mask (mediapipe, cached).
Masks: each proxy variant's own class-0 pixels (what the flow claims is visible), and the target's
keypoint body mask (diaflow_core.pose.body_mask) as a common ground for all methods.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/proxy_report.py --pairs 1000 \
        --figure runs/proxy_pair_market.png --json runs/proxy_report.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from skimage.metrics import structural_similarity  # noqa: E402

from diaflow_core.data.annotations import read_annotations  # noqa: E402
from diaflow_core.ops import warp  # noqa: E402
from diaflow_core.pose import body_mask  # noqa: E402
from diaflow_core.proxy3d import NUM_PARTS, MaskCache, affine_limb_flow, compute_flow_batch, fit_widths  # noqa: E402
from diaflow_core.proxy3d.figure import pair_figure  # noqa: E402

SIZE = (128, 64)


def pick_pairs(root: Path, poses: dict[str, np.ndarray], n: int, seed: int, min_joints: int) -> list[tuple[str, str]]:
    names = sorted(p.name for p in (root / "bounding_box_train").glob("*.jpg"))
    good = [nm for nm in names if nm in poses and np.isfinite(poses[nm][:, 0]).sum() >= min_joints]
    by_id: dict[str, list[str]] = defaultdict(list)
    for nm in good:
        by_id[nm.split("_")[0]].append(nm)
    pool = [nm for nm in good if len(by_id[nm.split("_")[0]]) >= 2]
    rng = np.random.default_rng(seed)
    pairs: set[tuple[str, str]] = set()
    while len(pairs) < n:
        a = pool[rng.integers(len(pool))]
        mates = [m for m in by_id[a.split("_")[0]] if m != a]
        pairs.add((a, mates[rng.integers(len(mates))]))
    return sorted(pairs)


def read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {path}")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def warp_images(src: np.ndarray, flow: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(src.transpose(0, 3, 1, 2).astype(np.float32))
    out = warp(x, torch.from_numpy(flow), mode="bilinear", padding_mode="border")
    return out.numpy().transpose(0, 2, 3, 1)


def masked_scores(pred: np.ndarray, tgt: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    if mask.sum() == 0:
        return float("nan"), float("nan")
    l1 = float(np.abs(pred - tgt)[mask].mean() / 255.0)
    _, smap = structural_similarity(pred, tgt, channel_axis=2, data_range=255.0, full=True)
    return l1, float(smap.mean(axis=2)[mask].mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--market", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared/data/market1501"
    )
    ap.add_argument("--pairs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--min-joints", type=int, default=8, help="poses with fewer annotated joints are skipped")
    ap.add_argument("--mask-cache", type=Path, default=Path("runs/proxy_masks"))
    ap.add_argument("--no-fit", action="store_true", help="skip the silhouette-fitted variant")
    ap.add_argument("--spill-weight", type=float, default=3.0, help="fit_widths: cost of silhouette outside the mask")
    ap.add_argument("--figure", type=Path, default=None, help="write the example picture here (PNG)")
    ap.add_argument("--figure-index", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    poses, _ = read_annotations(args.market / "market-annotation-train.csv")
    pairs = pick_pairs(args.market, poses, args.pairs, args.seed, args.min_joints)
    img_dir = args.market / "bounding_box_train"
    src_kp = np.stack([poses[a] for a, _ in pairs])
    tgt_kp = np.stack([poses[b] for _, b in pairs])
    src_img = np.stack([read_rgb(img_dir / a) for a, _ in pairs]).astype(np.float32)
    tgt_img = np.stack([read_rgb(img_dir / b) for _, b in pairs]).astype(np.float32)
    n = len(pairs)
    timing: dict[str, float] = {}

    flows: dict[str, np.ndarray] = {}
    vis: dict[str, np.ndarray] = {}
    t0 = time.process_time()
    f, v = zip(
        *(compute_flow_batch(src_kp[i : i + 64], tgt_kp[i : i + 64], SIZE) for i in range(0, n, 64)), strict=True
    )
    flows["proxy"], vis["proxy"] = np.concatenate(f), np.concatenate(v)
    timing["proxy_flow_ms_per_pair"] = 1e3 * (time.process_time() - t0) / n
    widths = np.ones((n, NUM_PARTS), np.float32)
    if not args.no_fit:
        cache = MaskCache(args.mask_cache)
        t0 = time.process_time()
        masks = {a: cache.get(img_dir / a, src_img[i].astype(np.uint8)) for i, (a, _) in enumerate(pairs)}
        timing["mask_ms_per_image_incl_cache"] = 1e3 * (time.process_time() - t0) / max(len(masks), 1)
        t0 = time.process_time()
        fitted = {a: fit_widths(masks[a], poses[a], spill_weight=args.spill_weight) for a in masks}
        timing["fit_ms_per_image"] = 1e3 * (time.process_time() - t0) / max(len(fitted), 1)
        widths = np.stack([fitted[a] for a, _ in pairs])
        f, v = zip(*(compute_flow_batch(src_kp[i : i + 64], tgt_kp[i : i + 64], SIZE, src_widths=widths[i : i + 64])
                     for i in range(0, n, 64)), strict=True)  # fmt: skip
        flows["proxy_fit"], vis["proxy_fit"] = np.concatenate(f), np.concatenate(v)
    flows["no_warp"] = np.zeros_like(flows["proxy"])
    flows["affine"] = np.stack([affine_limb_flow(s, t, SIZE) for s, t in zip(src_kp, tgt_kp, strict=True)])

    warped = {m: warp_images(src_img, fl) for m, fl in flows.items()}
    methods = ["no_warp", "affine", "proxy"] + (["proxy_fit"] if "proxy_fit" in flows else [])
    mask_sets = {f"class0[{k}]": vis[k] == 0 for k in vis}
    mask_sets["target_body_mask"] = np.stack([body_mask(t, SIZE) for t in tgt_kp])
    results: dict[str, dict[str, dict[str, float]]] = {}
    for mname, masks_ in mask_sets.items():
        results[mname] = {}
        for m in methods:
            scores = np.array([masked_scores(warped[m][i], tgt_img[i], masks_[i]) for i in range(n)])
            results[mname][m] = {"L1": float(np.nanmean(scores[:, 0])), "SSIM": float(np.nanmean(scores[:, 1]))}
        results[mname]["pixels_per_pair"] = {"mean": float(masks_.reshape(n, -1).sum(1).mean())}
    classes = {k: np.bincount(v.ravel(), minlength=3) / v.size for k, v in vis.items()}

    print(f"pairs: {n} same-identity training pairs (seed {args.seed}, >= {args.min_joints} joints each)")
    print("| mask | pixels/pair | " + " | ".join(f"{m} L1 / SSIM" for m in methods) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in methods) + " |")
    for mname, row in results.items():
        cells = [f"{row[m]['L1']:.4f} / {row[m]['SSIM']:.3f}" for m in methods]
        print(f"| {mname} | {row['pixels_per_pair']['mean']:.0f} | " + " | ".join(cells) + " |")
    for k, c in classes.items():
        print(f"classes {k}: visible {c[0]:.3f}, hidden {c[1]:.3f}, background {c[2]:.3f} (fraction of pixels)")
    if "proxy_fit" in flows:
        print(f"fitted widths: mean {widths.mean(0).round(2).tolist()}; unfitted (unusable mask) "
              f"{float((widths == 1).all(1).mean()):.3f}")  # fmt: skip
    print("timing (CPU seconds per item):", {k: round(v, 2) for k, v in timing.items()})

    if args.figure is not None:
        i = args.figure_index
        fig = pair_figure(src_img[i].astype(np.uint8), tgt_img[i].astype(np.uint8), src_kp[i], tgt_kp[i],
                          src_widths=None if args.no_fit else widths[i])  # fmt: skip
        args.figure.parent.mkdir(parents=True, exist_ok=True)
        big = cv2.resize(fig.picture, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
        cv2.imwrite(str(args.figure), big[:, :, ::-1])
        kind = "default" if args.no_fit else "fitted"
        print(f"figure: {args.figure} (pair {pairs[i][0]} -> {pairs[i][1]}, {kind} widths)")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"pairs": n, "seed": args.seed, "results": results, "timing": timing,
                   "classes": {k: c.tolist() for k, c in classes.items()}}  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
