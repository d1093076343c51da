"""Shared benchmark data: a database with N samples built from the offline backend's scripted dialogues."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

from datagen import config, scenarios
from datagen.dialogue import from_generator_output
from datagen.offline_dialogues import choose_defect, scripted_dialogue
from datagen.store import connect, now

ROOT = Path(__file__).resolve().parents[1]
"""The repository (app.py lives here)."""


def dialogues(n_distinct: int = 400, seed: int = 1):
    """``n_distinct`` varied Dialogues (all categories, ~15% with defects), train kind."""
    per = max(1, n_distinct // len(config.CATEGORIES))
    items = scenarios.make_scenarios("train", {c: per for c in config.CATEGORIES}, seed)
    out = []
    for sc in items:
        raw = scripted_dialogue(sc, choose_defect(sc["custom_id"], 0.15))
        out.append(
            from_generator_output(
                raw, tools=config.TOOLS, kind="train", category=sc["category"], system_prompt=sc["system_prompt"], dates=sc["date"], custom_id=sc["custom_id"]
            )
        )
    return out


def build_db(path: Path, n: int, *, gold_every: int = 0) -> float:
    """Create ``path`` with ``n`` samples (fresh uids, cycling through :func:`dialogues`); returns seconds."""
    started = time.perf_counter()
    if path.exists():
        path.unlink()
    db = connect(path)
    base = dialogues()
    rows = []
    for i in range(n):
        d = base[i % len(base)].model_copy(update={"uid": str(uuid.UUID(int=i + 1)), "source": "bench"})
        if gold_every and i % gold_every == 0:
            d.kind = "gold"
        rows.append(
            {
                "uid": d.uid,
                "custom_id": d.custom_id,
                "kind": d.kind,
                "category": d.category,
                "source": d.source,
                "model": "bench",
                "dialogue": d.model_dump_json(),
                "usage": None,
                "content_hash": d.content_hash(),
                "created_at": now(),
            }
        )
        if len(rows) == 2000:
            with db.conn:
                db["samples"].insert_all(rows)
            rows = []
    if rows:
        with db.conn:
            db["samples"].insert_all(rows)
    db.conn.close()
    return time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of ``values``."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]


def machine() -> str:
    """One line naming this machine (CPU model, cores, Python)."""
    import os
    import platform

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)


@contextlib.contextmanager
def serve_app(env: dict[str, str], root: Path = ROOT) -> Iterator[str]:
    """``streamlit run app.py`` on a free loopback port with ``env``; yields its URL once
    ``/_stcore/health`` answers (at most 30 s), and stops the server on exit (Streamlit's e2e recipe)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
