"""benchmarks/gpu_check.py: no GPU -> a message and exit 0; --dry-run lists every stage; the flags it passes exist."""

import importlib.util
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _load():
    spec = importlib.util.spec_from_file_location("gpu_check", BENCH / "gpu_check.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU path")
def test_no_gpu_message_and_exit_0(tmp_path, capsys):
    assert _load().main(["--out", str(tmp_path / "r")]) == 0
    assert "no GPU" in capsys.readouterr().out
    assert not (tmp_path / "r").exists()  # nothing written


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU path")
def test_no_gpu_exit_0_as_a_script(tmp_path):
    p = subprocess.run([sys.executable, str(BENCH / "gpu_check.py"), "--out", str(tmp_path / "r")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "no GPU" in p.stdout


def test_dry_run_lists_every_stage(capsys):
    mod = _load()
    assert mod.main(["--dry-run"]) == 0
    out = capsys.readouterr().out
    names = [s["name"] for s in mod.stages(True)]
    for name in ("env", "step_speed_eager", "step_speed_compiled", "step_speed_graphs", "flop_rate", "stde_1e5",
                 "stde_1e6", "lbfgs",
                 "operators_darcy", "sync_pairs"):
        assert name in names
        assert re.search(rf"^{name} \[\d+ s\]: ", out, re.M), name
    assert sum(s["timeout"] for s in mod.stages(True)) <= 480  # the whole check fits 8 minutes
    assert "--skip-deepxde" in " ".join(mod.stages(False)[1]["cmd"])


def test_unknown_stage_is_refused(capsys):
    mod = _load()
    with pytest.raises(SystemExit) as e:
        mod.main(["--only", "nope", "--dry-run"])
    assert e.value.code == 2
    assert "unknown stage(s) nope" in capsys.readouterr().err


def _script_flags(script: Path) -> set:
    """Long options a benchmark declares: the literal ``add_argument("--name"`` calls of its source."""
    return set(re.findall(r"add_argument\(\s*\"(--[a-z0-9-]+)\"", script.read_text()))


def test_every_flag_passed_exists():
    mod = _load()
    for st in mod.stages(False):
        cmd = st["cmd"]
        if cmd[1] == "-c":
            continue
        script = Path(cmd[1])
        flags = _script_flags(script)
        assert flags, script
        for f in (c for c in cmd[2:] if c.startswith("--")):
            assert f in flags, f"stage {st['name']}: {script.name} has no option {f}"


def test_stage_runner_collects_json_and_enforces_its_limit(tmp_path):
    mod = _load()
    ok = mod.run_stage({"name": "ok", "what": "w", "timeout": 10,
                        "cmd": [sys.executable, "-c", "print('noise'); print('{\"a\": 1}')"]}, 10, tmp_path)
    assert ok["status"] == "ok" and ok["results"] == [{"a": 1}]
    # a stage whose child outlives it: the whole process group is killed at the limit
    slow = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); " \
           "print('{\"partial\": true}', flush=True); time.sleep(60)"
    t = time.perf_counter()
    stage = {"name": "late", "what": "w", "timeout": 1, "cmd": [sys.executable, "-c", slow]}
    late = mod.run_stage(stage, 1.5, tmp_path)
    assert time.perf_counter() - t < 20
    assert late["status"] == "timeout" and late["results"] == [{"partial": True}]  # what it printed is kept
    md = mod.markdown({"device": "dev", "started": "now", "budget_s": 3, "seconds": 2, "stages": [ok, late]})
    assert "| ok | ok |" in md and "| late | timeout |" in md and '{"partial": true}' in md
    assert (tmp_path / "late.stdout").exists()
