"""benchmarks/generic_suite.py: rows from child processes, failed rows reported, table and JSON written."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "generic_suite.py"


@pytest.fixture(scope="module")
def suite_runner():
    spec = importlib.util.spec_from_file_location("bench_generic_suite", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_a_failing_child_is_a_failed_row_with_its_message(suite_runner):
    row = suite_runner._child([sys.executable, "-c", "import sys; sys.exit('boom: bad thing')"], 1, timeout=60)
    assert row["status"] == "failed" and "boom: bad thing" in row["error"]
    table = suite_runner.markdown([{"problem": "wave", "recipe": "none", **row},
                                   {"problem": "helmholtz", "recipe": "none", "status": "ok", "rel_l2": 0.5,
                                    "rel_l2_fields": {}, "wall_s": 3.0, "rules": ["a", "b"]}])
    assert "| wave | none | failed |" in table and "| helmholtz | none | 5.00e-01 |  | 3.0 | a; b |" in table


def test_unknown_problem_is_refused(suite_runner, tmp_path):
    with pytest.raises(SystemExit):
        suite_runner.main(["--problems", "wave,nope", "--out", str(tmp_path)])


def test_tiny_run_writes_table_and_json(suite_runner, tmp_path, capsys):
    suite_runner.main(["--problems", "helmholtz", "--time", "1s", "--recipe", "none", "--out", str(tmp_path),
                       "--quiet"])
    record = json.loads((tmp_path / "suite.json").read_text())
    row = record["rows"][0]
    assert row["status"] == "ok", row
    assert row["problem"] == "helmholtz" and 0 < row["rel_l2"] < float("inf")
    assert (tmp_path / "helmholtz-none.h5").exists()
    assert record["machine"]["matmul_gflops_f32_2048"] > 0 and record["machine"]["torch"]
    assert "| helmholtz | none |" in (tmp_path / "suite.md").read_text()


def test_missing_peer_script_is_a_skipped_row(suite_runner, tmp_path, monkeypatch):
    monkeypatch.setattr(suite_runner, "PEER_SCRIPT", tmp_path / "_deepxde_suite.py")
    monkeypatch.setattr(suite_runner, "_child", lambda cmd, threads, timeout: {"status": "ok", "rel_l2": 0.1})
    args = type("Args", (), {"recipe": "none", "seed": 0, "out": tmp_path, "peer": "deepxde"})()
    rows = suite_runner.run_row("wave", args, 1.0, 1)
    assert [r["recipe"] for r in rows] == ["none", "deepxde"]
    assert rows[1]["status"] == "skipped" and "_deepxde_suite.py is missing" in rows[1]["error"]
