"""Datasets and file formats: Market-1501, generic re-ID folders, keypoint CSVs, pairs, splits, torch datasets."""

from __future__ import annotations

from diaflow_core.data.annotations import (
    ANNOTATION_HEADER,
    AnnotationReport,
    RowProblem,
    read_annotations,
    write_annotations,
)
from diaflow_core.data.generic import GenericRecord, read_identity_folders
from diaflow_core.data.images import image_to_tensor, read_image, resize_image, scale_keypoints, tensor_to_image
from diaflow_core.data.market import (
    IMAGE_EXTENSIONS,
    MARKET_SPLITS,
    TORCHREID_PATTERN,
    MarketName,
    MarketRecord,
    MarketRoot,
    parse_market_name,
    torchreid_parse,
)
from diaflow_core.data.pairs import present_pairs, read_pairs
from diaflow_core.data.pairs_dataset import PosePairs, PoseTransferPairs
from diaflow_core.data.splits import identity_uniform, split_identities

__all__ = [
    "ANNOTATION_HEADER",
    "IMAGE_EXTENSIONS",
    "MARKET_SPLITS",
    "TORCHREID_PATTERN",
    "AnnotationReport",
    "GenericRecord",
    "MarketName",
    "MarketRecord",
    "MarketRoot",
    "PosePairs",
    "PoseTransferPairs",
    "RowProblem",
    "identity_uniform",
    "image_to_tensor",
    "parse_market_name",
    "present_pairs",
    "read_annotations",
    "read_identity_folders",
    "read_image",
    "read_pairs",
    "resize_image",
    "scale_keypoints",
    "split_identities",
    "tensor_to_image",
    "torchreid_parse",
    "write_annotations",
]
