"""Detection, crops, video reading, driving poses and the optional pose backends."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from app_fixtures import person_crop

from diaflow_core.errors import BackendUnavailable, ConfigError, DataError
from reid_augment.detect import Detection, HogDetector, crop_person, nms
from reid_augment.pose_backends import AnnotationsBackend, make_pose_backend, pose_backend_for
from reid_augment.pose_bank import load_pose_bank
from reid_augment.scene import street_scene
from reid_augment.video import iter_frames, video_pose_pool


class DrawnPose:
    """TEST DOUBLE backend: the pose of the drawn figure, whatever the image."""

    name = "drawn"

    def estimate(self, images, names):
        return [person_crop(2, 0)[1] * np.float32(im.shape[0] / 128) for im in images]


def test_crop_person_maps_keypoints() -> None:
    frame, people = street_scene(load_pose_bank(), seed=1)
    crop, t = crop_person(frame, people[0].box)
    assert crop.shape == (128, 64, 3) and crop.dtype == np.uint8
    kp = t.to_crop(people[0].pose)
    assert np.nanmin(kp) > -2 and np.nanmax(kp[:, 0]) < 66 and np.nanmax(kp[:, 1]) < 130
    assert np.allclose(t.to_frame(kp), people[0].pose, atol=1e-3, equal_nan=True)


def test_nms_and_hog_on_scene() -> None:
    a, b = Detection((0, 0, 10, 20), 0.9), Detection((1, 1, 11, 21), 0.5)
    assert nms([b, a]) == [a]
    frame, _ = street_scene(load_pose_bank(), seed=0)
    dets = HogDetector().detect(frame)
    assert all(d.box[2] > d.box[0] and d.box[3] > d.box[1] for d in dets)


def _write_video(path: Path, frames: int = 6) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 128))
    for i in range(frames):
        img, _ = person_crop(i, i)
        writer.write(cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    writer.release()


def test_video_frames_and_pose_pool(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    _write_video(path)
    frames = list(iter_frames(path, step=2))
    assert [i for i, _ in frames] == [0, 2, 4] and frames[0][1].shape == (128, 64, 3)
    assert len(list(iter_frames(path, max_frames=2))) == 2
    pool = video_pose_pool(path, DrawnPose(), step=1)
    assert len(pool) == 6 and pool.entries[3].origin == "video:clip.avi#f3"
    with pytest.raises(DataError, match="video not found"):
        list(iter_frames(tmp_path / "none.mp4"))


def test_backend_registry_and_optional_backends(tmp_path: Path) -> None:
    kp = person_crop(0, 0)[1]
    backend = AnnotationsBackend({"a.jpg": kp})
    found = backend.estimate([np.zeros((128, 64, 3), np.uint8)] * 2, ["dir/a.jpg", "b.jpg"])
    assert np.allclose(found[0], kp, equal_nan=True) and found[1] is None
    with pytest.raises(ConfigError, match="unknown pose backend"):
        make_pose_backend("openpose")
    with pytest.raises(ConfigError, match="no keypoint CSV"):
        pose_backend_for("annotations", [])
    with pytest.raises(BackendUnavailable, match="mmpose"):
        make_pose_backend("mmpose")
    with pytest.raises(BackendUnavailable, match="ultralytics|not found locally"):
        make_pose_backend("yolo", weights=str(tmp_path / "absent.pt")).estimate([kp], ["x"])


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_mediapipe_reads_a_drawn_person() -> None:
    frame, people = street_scene(load_pose_bank(), seed=0)
    crop, t = crop_person(frame, people[0].box)
    (kp,) = make_pose_backend("mediapipe").estimate([crop], ["scene"])
    assert kp is not None and kp.shape == (18, 2)
    err = np.nanmedian(np.linalg.norm(kp - t.to_crop(people[0].pose), axis=1))
    assert err < 8.0


@pytest.mark.data
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_driving_video_walking_man(data_root: Path) -> None:
    path = data_root / "video" / "walking_man.mp4"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    pool = video_pose_pool(path, make_pose_backend("mediapipe"), step=30, max_frames=4)
    assert 2 <= len(pool) <= 4
    assert all(e.origin.startswith("video:walking_man.mp4#f") for e in pool.entries)
