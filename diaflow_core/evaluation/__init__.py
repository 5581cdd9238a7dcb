"""Evaluation: pose-transfer quality on the test pairs (metrics, baselines, reports) and flow statistics."""

from __future__ import annotations

from diaflow_core.evaluation.baselines import BASELINES, analytic_flow_warp, available_baselines, copy_source
from diaflow_core.evaluation.flow import FlowStats, flow_batch_sums
from diaflow_core.evaluation.pairs import TestPairs, load_test_pairs
from diaflow_core.evaluation.report import hardware_info, transfer_summary, write_grid, write_transfer_json
from diaflow_core.evaluation.transfer import (
    PAIRED_METRICS,
    Method,
    NetworkMetrics,
    TransferMetricsConfig,
    TransferReport,
    evaluate_transfer,
    prepare_network_metrics,
    to_uint8,
)

__all__ = [
    "BASELINES",
    "PAIRED_METRICS",
    "FlowStats",
    "Method",
    "NetworkMetrics",
    "TestPairs",
    "TransferMetricsConfig",
    "TransferReport",
    "analytic_flow_warp",
    "available_baselines",
    "copy_source",
    "evaluate_transfer",
    "flow_batch_sums",
    "hardware_info",
    "load_test_pairs",
    "prepare_network_metrics",
    "to_uint8",
    "transfer_summary",
    "write_grid",
    "write_transfer_json",
]
