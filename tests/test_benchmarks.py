"""Smoke test: the benchmark scripts run at a tiny size (CI does not run them at full size)."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(script, tmp_path, *args):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--n", "40", "--cache", str(tmp_path / "data.jsonl"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_bench_checks_prints_rates_and_the_ratio_to_json_loads(tmp_path):
    out = _run("bench_checks.py", tmp_path, "--workers", "2", "--db")
    assert "json.loads" in out and "x json.loads" in out and "check_samples x 2" in out and "nproc=" in out


def test_bench_decontam_prints_the_time(tmp_path):
    out = _run("bench_decontam.py", tmp_path, "--gold", "8", "--duplicates")
    assert "decontaminate" in out and "find_duplicates" in out


def test_bench_ingest_prints_time_and_memory_from_separate_runs():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_ingest.py"), "--n", "30", "--requests", "40"], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr
    ingest_line = next(line for line in proc.stdout.splitlines() if line.startswith("ingest 30 batch output lines"))
    assert "json.loads" in ingest_line and "peak" not in ingest_line  # the timed run does not sample memory
    memory_line = next(line for line in proc.stdout.splitlines() if line.startswith("memory run"))
    assert "peak PSS" in memory_line and " 0 MB" not in memory_line.split("writer alone")[0]
    assert "build 40 requests" in proc.stdout


def test_bench_triage_prints_decisions_per_published_dialogue_and_defect_rates():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_triage.py"), "--n", "240", "--p0", "0.3", "--confidence", "0.9", "--allowed-defects", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "(a) review everything       decisions    240" in out  # every sample decided by a person
    assert "(b) triage + audited lots" in out and "fewer decisions per published dialogue" in out and "lots (b): {" in out
    decided = {m.group(1): int(m.group(2).replace(",", "")) for m in re.finditer(r"^\s+(\([abc]\)) .*?decisions\s+([\d,]+)", out, re.M)}
    assert set(decided) == {"(a)", "(b)", "(c)"}, out
    assert decided["(c)"] <= decided["(b)"] <= decided["(a)"]  # (c) serves (b)'s queue minus the error samples
