"""Re-ID feature network, PK sampling, training, and the Market-1501 ranking protocol."""

from __future__ import annotations

from .api import evaluate_reid
from .evaluate import RankScores, distance_matrix, evaluate_market, market_scores, rank_scores
from .features import extract_features
from .identity import identity_preservation
from .model import BACKBONES, FEATURE_LAYERS, ReidNet, ReidNetConfig, load_backbone_weights
from .records import (
    ReidRecord,
    ValidationSplit,
    as_records,
    folder_records,
    market_records,
    parse_pid_camera,
    trainable,
    validation_split,
)
from .sampler import PKBatchSampler
from .trainer import ReidTrainConfig, TrainCallback, train_reid
from .transforms import AugmentConfig, eval_transform, read_rgb, train_transform
from .weights import load_reid_model, read_reid_meta, save_reid_weights

__all__ = [
    "BACKBONES",
    "FEATURE_LAYERS",
    "AugmentConfig",
    "PKBatchSampler",
    "RankScores",
    "ReidNet",
    "ReidNetConfig",
    "ReidRecord",
    "ReidTrainConfig",
    "TrainCallback",
    "ValidationSplit",
    "as_records",
    "distance_matrix",
    "eval_transform",
    "evaluate_market",
    "evaluate_reid",
    "extract_features",
    "folder_records",
    "identity_preservation",
    "load_backbone_weights",
    "load_reid_model",
    "market_records",
    "market_scores",
    "parse_pid_camera",
    "rank_scores",
    "read_reid_meta",
    "read_rgb",
    "save_reid_weights",
    "train_reid",
    "train_transform",
    "trainable",
    "validation_split",
]
