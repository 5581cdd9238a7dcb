"""diaflow_core.data.splits, .images and .pairs_dataset on a tiny generated Market-style folder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from diaflow_core.data import (
    PosePairs,
    PoseTransferPairs,
    image_to_tensor,
    scale_keypoints,
    split_identities,
    tensor_to_image,
    write_annotations,
)
from diaflow_core.errors import ConfigError, DataError

PIDS = (1, 2, 3, 5, 8, 13, 21, 34)


def _pose(seed: int, n_missing: int = 0) -> np.ndarray:
    kp = np.random.default_rng(seed).integers(0, 60, (18, 2)).astype(np.float32)
    kp[:n_missing] = np.nan
    return kp


def _name(pid: int, k: int) -> str:
    return f"{pid:04d}_c{k % 6 + 1}s1_{k:06d}_00.jpg"


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 identities x 3 train images (one with too few joints) + 4 test images and 3 test pairs."""
    root = tmp_path_factory.mktemp("market")
    train_ann, test_ann = {}, {}
    for pid in PIDS:
        for k in range(3):
            name = _name(pid, k)
            img = np.zeros((128, 64, 3), np.uint8)
            img[..., 0], img[..., 1], img[..., 2] = 6 * pid, 100 + 50 * k, 10  # R: pid, G: image index
            (root / "bounding_box_train").mkdir(exist_ok=True)
            path = str(root / "bounding_box_train" / name)
            cv2.imwrite(path, img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 100])  # cv2 writes BGR
            train_ann[name] = _pose(pid * 10 + k, n_missing=12 if k == 2 and pid == 1 else 0)
    (root / "bounding_box_test").mkdir()
    for name in ["0100_c1s1_000001_00.jpg", "0100_c2s1_000002_00.jpg", "0200_c1s1_000003_00.jpg", "-1_c1s1_4_00.jpg"]:
        cv2.imwrite(str(root / "bounding_box_test" / name), np.full((128, 64, 3), 50, np.uint8))
        test_ann[name] = _pose(len(test_ann))
    write_annotations(root / "market-annotation-train.csv", train_ann)
    write_annotations(root / "market-annotation-test.csv", test_ann)
    (root / "market-pairs-test.csv").write_text(
        "from,to\n0100_c1s1_000001_00.jpg,0100_c2s1_000002_00.jpg\n"
        "0200_c1s1_000003_00.jpg,0200_c9s9_000009_00.jpg\n0200_c1s1_000003_00.jpg,0100_c1s1_000001_00.jpg\n"
    )
    return root


def test_split_deterministic_disjoint_and_stable():
    pids = list(range(1, 501))
    train, val = split_identities(pids, 0.1, seed=0)
    assert (train, val) == split_identities(reversed(pids), 0.1, seed=0)
    assert not set(train) & set(val) and sorted(train + val) == pids
    assert 30 <= len(val) <= 70 and val == sorted(val)
    assert split_identities(pids, 0.1, seed=1)[1] != val
    # an identity's side does not depend on the others present
    sub_train, sub_val = split_identities(pids[:250], 0.1, seed=0)
    assert sub_val == [p for p in val if p <= 250]
    assert split_identities(pids, 0.0) == (pids, [])


def test_split_small_and_bad_fraction():
    train, val = split_identities([4, 9], 0.1)
    assert len(val) == 1 and len(train) == 1
    with pytest.raises(ConfigError, match="val_fraction"):
        split_identities([1, 2], 1.0)


def test_image_tensor_round_trip_and_keypoint_scaling():
    img = np.random.default_rng(0).integers(0, 256, (128, 64, 3)).astype(np.uint8)
    t = image_to_tensor(img)
    assert t.shape == (3, 128, 64) and t.dtype == torch.float32 and t.min() >= -1 and t.max() <= 1
    np.testing.assert_array_equal(tensor_to_image(t), img)
    with pytest.raises(DataError):
        image_to_tensor(img.astype(np.float32))
    # pixel centres: x = 0 and x = 63 at 64 wide map to 0.5 and 127.5 at 128 wide
    np.testing.assert_allclose(scale_keypoints(np.array([[0, 0], [63, 127]]), (128, 64), (256, 128)),
                               [[0.5, 0.5], [126.5, 254.5]])  # fmt: skip


def test_train_pairs_same_identity_and_epochs(market: Path):
    ds = PoseTransferPairs(market, split="train", val_fraction=0.25, seed=0)
    _, val = split_identities(PIDS, 0.25, seed=0)
    names = ds.names
    assert all(int(n[:4]) not in val for n in names)
    assert _name(1, 2) not in names  # 6 joints < min_joints
    assert len(ds) == sum(1 for n in names if sum(m[:4] == n[:4] for m in names) >= 2)
    sample = ds[0]
    assert sample["src"].shape == (3, 128, 64) and sample["tgt"].shape == (3, 128, 64)
    assert sample["src_kp"].shape == (18, 2) and sample["src_kp"].dtype == torch.float32
    assert sample["src_name"][:4] == sample["tgt_name"][:4] and sample["src_name"] != sample["tgt_name"]
    # pixel values: R channel = pid, G = image index (RGB order kept; JPEG may move a level or two)
    pid, k = int(sample["src_name"][:4]), int(sample["src_name"][10:16])
    want = np.array([6 * pid, 100 + 50 * k, 10]) / 127.5 - 1
    np.testing.assert_allclose(sample["src"][:, 5, 5].numpy(), want, atol=3 / 127.5)
    firsts = [ds.pair_names(i) for i in range(len(ds))]
    assert firsts == [ds.pair_names(i) for i in range(len(ds))]  # deterministic per (seed, epoch, index)
    redraws = []
    for e in range(1, 6):
        ds.set_epoch(e)
        redraws.append([ds.pair_names(i) for i in range(len(ds))])
    assert any(r != firsts for r in redraws)
    assert all(a[:4] == b[:4] and a != b for r in redraws for a, b in r)


def test_val_pairs_fixed_and_loader(market: Path):
    ds = PoseTransferPairs(market, split="val", val_fraction=0.25, seed=0)
    pairs = [ds.pair_names(i) for i in range(len(ds))]
    ds.set_epoch(3)
    assert pairs == [ds.pair_names(i) for i in range(len(ds))]
    batch = next(iter(DataLoader(ds, batch_size=2)))
    assert batch["src"].shape == (2, 3, 128, 64) and batch["tgt_kp"].shape == (2, 18, 2)
    assert len(batch["src_name"]) == 2


def test_cross_identity_pairs(market: Path):
    ds = PoseTransferPairs(market, split="train", val_fraction=0.25, cross_identity=True)
    assert len(ds) == len(ds.names)
    assert all(a[:4] != b[:4] for a, b in (ds.pair_names(i) for i in range(len(ds))))


def test_test_pairs_present_only(market: Path):
    ds = PoseTransferPairs(market, split="test")
    assert len(ds) == 2 and ds.skipped == 1
    assert ds.pair_names(0) == ("0100_c1s1_000001_00.jpg", "0100_c2s1_000002_00.jpg")
    s = ds[1]
    assert s["src_name"] == "0200_c1s1_000003_00.jpg" and s["tgt"].shape == (3, 128, 64)
    with pytest.raises(IndexError):
        ds[2]


def test_resize_scales_keypoints(market: Path):
    ds = PoseTransferPairs(market, split="test", size=(256, 128))
    s = ds[0]
    assert s["src"].shape == (3, 256, 128)
    ref = PoseTransferPairs(market, split="test")[0]["src_kp"].numpy()
    np.testing.assert_allclose(s["src_kp"].numpy(), (ref + 0.5) * 2 - 0.5)


def test_pair_dataset_errors(market: Path, tmp_path: Path):
    with pytest.raises(ConfigError):
        PoseTransferPairs(market, split="query")
    with pytest.raises(DataError, match="no train pairs"):
        PoseTransferPairs(market, split="train", min_joints=19)
    with pytest.raises(DataError, match="not found"):
        PoseTransferPairs(tmp_path, split="train")


def test_pose_pairs(market: Path):
    ann = market / "market-annotation-train.csv"
    same = PosePairs(ann, split="train", cross_fraction=0.0, val_fraction=0.25)
    cross = PosePairs(ann, split="train", cross_fraction=1.0, val_fraction=0.25)
    val = PosePairs(ann, split="val", cross_fraction=0.5, val_fraction=0.25)
    images = PoseTransferPairs(market, split="train", val_fraction=0.25)
    assert sorted(same._names) == sorted(images.names)  # same identities as the image dataset
    assert not {n[:4] for n in val._names} & {n[:4] for n in same._names}
    s = same[0]
    assert s["src_kp"].shape == (18, 2) and s["same_identity"]
    assert all(same[i]["src_name"][:4] == same[i]["tgt_name"][:4] for i in range(len(same)))
    assert all(cross[i]["src_name"][:4] != cross[i]["tgt_name"][:4] for i in range(len(cross)))
    v0 = [val[i]["tgt_name"] for i in range(len(val))]
    val.set_epoch(5)
    assert v0 == [val[i]["tgt_name"] for i in range(len(val))]
    with pytest.raises(ConfigError):
        PosePairs(ann, cross_fraction=1.5)


def test_flow_validation_poses_match_the_trainers_split(market: Path):
    from diaflow_core.train.flow import FlowDataConfig, validation_poses

    cfg = FlowDataConfig(market_root=str(market), val_fraction=0.25)
    src, tgt = validation_poses(cfg, seed=0)
    val = PosePairs(market / "market-annotation-train.csv", split="val", val_fraction=0.25, seed=0)
    assert src.shape == tgt.shape == (len(val), 18, 2) and src.dtype == np.float32
    for i in range(len(val)):
        np.testing.assert_array_equal(src[i], val[i]["src_kp"])
        np.testing.assert_array_equal(tgt[i], val[i]["tgt_kp"])
    one, _ = validation_poses(cfg, seed=0, n=1)
    assert one.shape == (1, 18, 2)


def test_flow_validation_batches_hold_the_validation_pairs_and_their_targets(market: Path):
    """The batches scripts score weight files on: the trainer's pairs in order, with proxy-body targets."""
    from diaflow_core.proxy3d import compute_flow_batch
    from diaflow_core.train.flow import FlowTrainConfig, validation_batches, validation_poses

    cfg = FlowTrainConfig()
    cfg = replace(cfg, data=replace(cfg.data, market_root=str(market), val_fraction=0.25, val_pairs=3))
    batches = validation_batches(cfg)
    src, tgt = validation_poses(cfg.data, seed=cfg.seed, n=3)
    assert len(batches) == 1 and batches[0]["src_kp"].shape == (3, 18, 2)
    np.testing.assert_array_equal(batches[0]["src_kp"].numpy(), src)
    np.testing.assert_array_equal(batches[0]["tgt_kp"].numpy(), tgt)
    flow, vis = compute_flow_batch(src, tgt, size=cfg.data.size)
    np.testing.assert_allclose(batches[0]["flow"].numpy(), flow, atol=1e-5)
    np.testing.assert_array_equal(batches[0]["vis"].numpy(), vis)
