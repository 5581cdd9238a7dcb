"""A generated street frame with full-body people: the demo's embedded default input.

No package in the environment ships a photograph with full-body people (scikit-image has the astronaut
and the cameraman, both cut at the waist; matplotlib, OpenCV, mediapipe and torchvision ship none), and
Market-1501 may not be redistributed. So the demo draws its own frame: a street backdrop and people
built from pose-bank skeletons with clothes, skin and hair, whose boxes and poses are known exactly.

Convention: frames uint8 RGB; poses OpenPose-18 (x, y) frame pixels, NaN = missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from diaflow_core.pose import pose_bbox, visible

from .fit import canonical_pose
from .pose_bank import PoseBank

__all__ = ["ScenePerson", "draw_person", "street_scene"]

_SKIN = ((224, 172, 140), (198, 134, 96), (141, 85, 54), (240, 200, 170))
_HAIR = ((40, 30, 25), (90, 60, 30), (20, 20, 20), (170, 140, 90))
_SHIRT = ((200, 40, 40), (40, 90, 180), (235, 235, 230), (60, 140, 70), (240, 180, 40), (120, 60, 140))
_TROUSERS = ((40, 50, 90), (30, 30, 35), (110, 100, 90), (70, 80, 60))


@dataclass(frozen=True)
class ScenePerson:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 (frame pixels)
    pose: np.ndarray  # (18, 2) frame pixels


def _limb(img: np.ndarray, kp: np.ndarray, a: int, b: int, width: float, color: tuple[int, ...]) -> None:
    if visible(kp)[a] and visible(kp)[b]:
        pa = tuple(int(round(v)) for v in kp[a])
        pb = tuple(int(round(v)) for v in kp[b])
        shade = tuple(int(c * 0.7) for c in color)
        cv2.line(img, pa, pb, shade, int(round(width + 2)), cv2.LINE_AA)
        cv2.line(img, pa, pb, color, int(round(width)), cv2.LINE_AA)
        cv2.circle(img, pb, int(round(width / 2)), color, -1, cv2.LINE_AA)


def draw_person(img: np.ndarray, kp: np.ndarray, rng: np.random.Generator, facing_front: bool) -> None:
    """Draw a clothed figure on ``img`` in place: legs, torso, arms, head (back-most parts first)."""
    height = pose_bbox(kp)[3] - pose_bbox(kp)[1]
    skin = _SKIN[rng.integers(len(_SKIN))]
    hair = _HAIR[rng.integers(len(_HAIR))]
    shirt = _SHIRT[rng.integers(len(_SHIRT))]
    trousers = _TROUSERS[rng.integers(len(_TROUSERS))]
    leg_w, arm_w = 0.075 * height, 0.05 * height
    for hip, knee, ankle in ((8, 9, 10), (11, 12, 13)):
        _limb(img, kp, hip, knee, leg_w, trousers)
        _limb(img, kp, knee, ankle, leg_w * 0.85, trousers)
        if visible(kp)[ankle]:
            x, y = kp[ankle]
            cv2.ellipse(img, (int(x), int(y + 2)), (int(leg_w * 0.8), int(leg_w * 0.4)), 0, 0, 360, (25, 25, 25), -1)
    ok = visible(kp)
    corners = [j for j in (2, 5, 11, 8) if ok[j]]
    if len(corners) >= 3:
        pts = kp[corners]
        centre = pts.mean(0)
        poly = centre + (pts - centre) * np.array([1.25, 1.0])
        cv2.fillPoly(img, [np.round(poly).astype(np.int32)], shirt, cv2.LINE_AA)
    if ok[1]:  # head over the neck, leaning toward where the face joints are
        neck = kp[1]
        head_joints = [j for j in (0, 14, 15, 16, 17) if ok[j]]
        lean = (
            float(np.clip(kp[head_joints, 0].mean() - neck[0], -0.04 * height, 0.04 * height)) if head_joints else 0.0
        )
        r = 0.07 * height
        cx, cy = int(neck[0] + lean), int(neck[1] - 1.25 * r)
        cv2.line(img, (int(neck[0]), int(neck[1])), (cx, cy), skin, int(arm_w), cv2.LINE_AA)
        cv2.ellipse(img, (cx, cy), (int(r * 0.85), int(r)), 0, 0, 360, skin, -1, cv2.LINE_AA)
        if facing_front:
            cv2.ellipse(img, (cx, int(cy - r * 0.3)), (int(r * 0.9), int(r * 0.75)), 0, 180, 360, hair, -1)
            for dx in (-0.35, 0.35):
                cv2.circle(img, (int(cx + dx * r), int(cy + 0.05 * r)), max(1, int(r * 0.12)), (30, 30, 30), -1)
            cv2.line(img, (int(cx - 0.25 * r), int(cy + 0.5 * r)), (int(cx + 0.25 * r), int(cy + 0.5 * r)),
                     (150, 70, 60), max(1, int(r * 0.08)))  # fmt: skip
        else:
            cv2.ellipse(img, (cx, cy), (int(r * 0.9), int(r * 1.02)), 0, 0, 360, hair, -1, cv2.LINE_AA)
    for sho, elb, wri in ((2, 3, 4), (5, 6, 7)):
        _limb(img, kp, sho, elb, arm_w, shirt)
        _limb(img, kp, elb, wri, arm_w * 0.8, skin)


def _backdrop(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    horizon = int(h * 0.45)
    for x0 in range(0, w, 80):  # building fronts
        colour = rng.integers(120, 200, 3)
        cv2.rectangle(img, (x0, 0), (x0 + 80, horizon), tuple(int(c) for c in colour), -1)
        for wy in range(15, horizon - 20, 35):
            for wx in range(x0 + 12, x0 + 70, 25):
                cv2.rectangle(img, (wx, wy), (wx + 14, wy + 20), (70, 90, 110), -1)
    pavement = np.linspace(150, 110, h - horizon)[:, None, None] * np.ones((1, w, 3))
    img[horizon:] = pavement.astype(np.uint8)
    for y in range(horizon, h, 22):  # paving lines
        cv2.line(img, (0, y), (w, y), (100, 100, 100), 1)
    noise = rng.normal(0, 6, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def street_scene(
    bank: PoseBank, people: int = 3, size: tuple[int, int] = (360, 640), seed: int = 0
) -> tuple[np.ndarray, list[ScenePerson]]:
    """A frame of ``size`` (H, W) with ``people`` figures in bank poses of different views."""
    rng = np.random.default_rng(seed)
    h, w = size
    frame = _backdrop(h, w, rng)
    complete = [i for i in range(len(bank)) if visible(bank.poses[i])[:14].all()] or list(range(len(bank)))
    order = []
    for view in ("front", "side", "back"):
        choices = [i for i in complete if bank.views[i] == view]
        if choices:
            order.append(int(rng.choice(choices)))
    while len(order) < people:
        order.append(int(rng.choice(complete)))
    out = []
    slot = w / people
    for n, i in enumerate(order[:people]):
        person_h = h * rng.uniform(0.62, 0.72)
        canvas = (int(person_h / 0.84 * 1.0), int(person_h / 0.84 * 0.5))
        kp = canonical_pose(bank.poses[i], canvas)
        foot_y = h * rng.uniform(0.9, 0.96)
        kp = kp + np.array([slot * (n + 0.5) - canvas[1] / 2, foot_y - 0.95 * canvas[0]], np.float32)
        draw_person(frame, kp, rng, facing_front=bank.views[i] != "back")
        x0, y0, x1, y1 = pose_bbox(kp)
        pad_x, pad_top = 0.12 * (y1 - y0), 0.12 * (y1 - y0)
        box = (
            max(0.0, x0 - pad_x),
            max(0.0, y0 - pad_top),
            min(float(w), x1 + pad_x),
            min(float(h), y1 + 0.05 * (y1 - y0)),
        )
        out.append(ScenePerson(box, kp.astype(np.float32)))
    return frame, out
