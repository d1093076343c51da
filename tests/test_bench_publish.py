"""Smoke test: the publishing benchmark runs at a tiny size and prints its figures."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_publish_prints_the_export_time_per_format():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_publish.py"), "--n", "60"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for fmt in ("qwen", "openai"):
        assert f"[{fmt}] export 54 records" in proc.stdout and f"[{fmt}] prepare without writing" in proc.stdout
    assert "(target ≤ 15 s)" in proc.stdout and "left out {'decontaminated': 1, 'duplicate': 2, 'unreviewed_error': 3}" in proc.stdout
    assert proc.stdout.count("rows {'train': 48, 'test': 6}") == 2  # the folder just written, not a cached one
