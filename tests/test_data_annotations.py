"""diaflow_core.data.annotations and .pairs: keypoint CSVs and pair lists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from diaflow_core.data import ANNOTATION_HEADER, present_pairs, read_annotations, read_pairs, write_annotations
from diaflow_core.errors import DataError

ROW = (
    "0224_c6s1_055726_02.jpg: [8, 23, 23, 43, 60, 23, 43, 60, 64, 92, 118, 65, 89, 108, 5, 6, 7, 8]: "
    "[39, 37, 20, 12, 8, 53, 59, 53, 22, 24, 24, 43, 43, 45, 36, 42, 31, 47]"
)
ROW_MISSING = (
    "1123_c2s2_161352_01.jpg: [-1, 25, 24, 40, 43, 24, 42, 47, 61, 90, 120, 60, 85, 112, -1, -1, 11, 11]: "
    "[-1, 35, 49, 58, 46, 21, 15, 5, 42, 41, 43, 22, 15, 27, -1, -1, 39, 26]"
)


def _write(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([ANNOTATION_HEADER, *rows]) + "\n")
    return path


def test_read_known_values(tmp_path: Path):
    poses, report = read_annotations(_write(tmp_path / "a.csv", ROW, ROW_MISSING))
    assert list(poses) == ["0224_c6s1_055726_02.jpg", "1123_c2s2_161352_01.jpg"]
    a = poses["0224_c6s1_055726_02.jpg"]
    assert a.shape == (18, 2) and a.dtype == np.float32
    np.testing.assert_array_equal(a[0], [39, 8])  # (x, y): nose at column 39, row 8
    np.testing.assert_array_equal(a[13], [45, 108])
    b = poses["1123_c2s2_161352_01.jpg"]
    assert np.isnan(b[[0, 14, 15]]).all() and not np.isnan(b[1:14]).any()
    assert report.rows == 2 and report.skipped == 0


def test_malformed_row_raises_with_line(tmp_path: Path):
    bad = "0001_c1s1_000001_00.jpg: [1, 2, 3]: [1, 2, 3]"
    path = _write(tmp_path / "a.csv", ROW, bad, ROW_MISSING)
    with pytest.raises(DataError, match=r"a\.csv:3: the y list has 3 values"):
        read_annotations(path)


def test_skip_mode_reports(tmp_path: Path):
    rows = [ROW, "garbage line", ROW_MISSING.replace("[-1, 35", "[x, 35"), "", ROW]
    poses, report = read_annotations(_write(tmp_path / "a.csv", *rows), on_error="skip")
    assert list(poses) == ["0224_c6s1_055726_02.jpg"]
    assert report.rows == 1 and report.skipped == 3
    assert [(p.line, p.file.endswith("a.csv")) for p in report.problems] == [(3, True), (4, True), (6, True)]
    assert "non-numeric" in report.problems[1].problem and "repeated name" in report.problems[2].problem
    assert str(report.problems[0]).endswith(":3: expected 'NAME: [y0, ..., y17]: [x0, ..., x17]'")


def test_bad_header_missing_file_and_bad_mode(tmp_path: Path):
    (tmp_path / "h.csv").write_text("from,to\n")
    with pytest.raises(DataError, match=r"h\.csv:1: expected the header"):
        read_annotations(tmp_path / "h.csv", on_error="skip")
    with pytest.raises(DataError, match="not found"):
        read_annotations(tmp_path / "none.csv")
    with pytest.raises(DataError, match="on_error"):
        read_annotations(tmp_path / "h.csv", on_error="ignore")  # type: ignore[arg-type]


def test_write_read_round_trip(tmp_path: Path):
    rng = np.random.default_rng(0)
    poses = {
        "0001_c1s1_000001_00.jpg": rng.integers(0, 64, (18, 2)).astype(np.float32),
        "0002_c1s1_000001_00.jpg": rng.uniform(0, 64, (18, 2)).astype(np.float32),
    }
    poses["0002_c1s1_000001_00.jpg"][[3, 7]] = np.nan
    path = tmp_path / "sub" / "out.csv"
    write_annotations(path, poses)
    assert path.read_text().splitlines()[0] == ANNOTATION_HEADER
    back, report = read_annotations(path)
    assert list(back) == list(poses) and report.skipped == 0
    for k, v in poses.items():
        np.testing.assert_array_equal(back[k], v)
    assert [p.name for p in path.parent.iterdir()] == ["out.csv"]  # no temp file left


def test_write_reproduces_source_format(tmp_path: Path):
    src = _write(tmp_path / "a.csv", ROW, ROW_MISSING)
    poses, _ = read_annotations(src)
    write_annotations(tmp_path / "b.csv", poses)
    assert (tmp_path / "b.csv").read_text() == src.read_text()


def test_write_rejects_bad_input(tmp_path: Path):
    with pytest.raises(DataError, match="shape"):
        write_annotations(tmp_path / "o.csv", {"a.jpg": np.zeros((17, 2))})
    with pytest.raises(DataError, match="name"):
        write_annotations(tmp_path / "o.csv", {"a b.jpg": np.zeros((18, 2))})
    assert not (tmp_path / "o.csv").exists()


def test_pairs_read_and_present(tmp_path: Path):
    path = tmp_path / "p.csv"
    path.write_text("from,to\na.jpg,b.jpg\nb.jpg,c.jpg\n\nc.jpg,d.jpg\n")
    pairs = read_pairs(path)
    assert pairs == [("a.jpg", "b.jpg"), ("b.jpg", "c.jpg"), ("c.jpg", "d.jpg")]
    kept, skipped = present_pairs(pairs, ["a.jpg", "b.jpg", "c.jpg"])
    assert kept == [("a.jpg", "b.jpg"), ("b.jpg", "c.jpg")] and skipped == 1
    assert present_pairs(pairs, set()) == ([], 3)


def test_pairs_malformed(tmp_path: Path):
    path = tmp_path / "p.csv"
    path.write_text("from,to\na.jpg,b.jpg\na.jpg\n")
    with pytest.raises(DataError, match=r"p\.csv:3"):
        read_pairs(path)
    path.write_text("src,dst\na.jpg,b.jpg\n")
    with pytest.raises(DataError, match=r"p\.csv:1: expected the header"):
        read_pairs(path)
