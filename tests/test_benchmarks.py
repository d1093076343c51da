"""Smoke test: the benchmark scripts run at a tiny size (CI does not run them at full size)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(script, tmp_path, *args):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--n", "40", "--cache", str(tmp_path / "data.jsonl"), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_bench_checks_prints_rates_and_the_ratio_to_json_loads(tmp_path):
    out = _run("bench_checks.py", tmp_path, "--workers", "2", "--db")
    assert "json.loads" in out and "x json.loads" in out and "check_samples x 2" in out and "nproc=" in out


def test_bench_decontam_prints_the_time(tmp_path):
    out = _run("bench_decontam.py", tmp_path, "--gold", "8", "--duplicates")
    assert "decontaminate" in out and "find_duplicates" in out
