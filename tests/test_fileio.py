"""diaflow_core.fileio: atomic whole-file replacement."""

from __future__ import annotations

import csv
import io
import json
import stat

import pytest

from diaflow_core.fileio import FILE_MODE, atomic_replace, csv_text, replace_bytes, replace_text


def test_replace_text_creates_folder_and_replaces(tmp_path):
    target = tmp_path / "a" / "b" / "report.json"
    replace_text(target, "one")
    assert target.read_text() == "one"
    replace_text(target, "two ✓")
    assert target.read_text(encoding="utf-8") == "two ✓"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]  # no temporary file left
    assert stat.S_IMODE(target.stat().st_mode) == FILE_MODE  # not mkstemp's private 0600


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "ckpt.pt"
    replace_bytes(target, b"old")
    with pytest.raises(RuntimeError, match="disk full"), atomic_replace(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]


def test_writer_sees_a_hidden_sibling(tmp_path):
    target = tmp_path / "w.safetensors"
    with atomic_replace(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".w.safetensors.")
        assert not target.exists()  # nothing published before the block ends
        tmp.write_bytes(b"x")
    assert target.read_bytes() == b"x"


def test_csv_text_orders_columns_and_quotes():
    rows = [{"b": "2", "a": "x,y", "extra": "dropped"}, {"a": 'say "hi"'}]
    text = csv_text(rows, ["a", "b"])
    assert text.splitlines()[0] == "a,b"
    back = list(csv.DictReader(io.StringIO(text)))
    assert back == [{"a": "x,y", "b": "2"}, {"a": 'say "hi"', "b": ""}]  # round trip; missing key left empty
    assert csv_text([], ["a", "b"]) == "a,b\n"


def test_report_json_prints_and_writes_the_same_text(tmp_path, capsys):
    from diaflow_core.fileio import report_json

    out = tmp_path / "sub" / "report.json"
    text = report_json({"epe": 2.07, "rows": [1, 2]}, out)
    assert json.loads(capsys.readouterr().out) == {"epe": 2.07, "rows": [1, 2]}
    assert out.read_text() == text + "\n" and json.loads(text)["rows"] == [1, 2]
    assert [p.name for p in out.parent.iterdir()] == ["report.json"]  # no temporary file left beside it
    report_json({"only": "printed"})
    assert json.loads(capsys.readouterr().out) == {"only": "printed"}
