"""Benchmark data: stored Dialogue JSON lines made with the offline generator (shared by the benchmarks).

Each line is ``Dialogue.model_dump_json()`` of a scripted dialogue (``datagen.offline_dialogues``)
with ``config.TOOLS``, a uniform category mix, 2–6 customer turns, a random persona and the offline
backend's default defect share (15%): the same shape ``samples.dialogue`` holds. Files are cached
(``--cache``) so several runs measure the same data.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import random
from importlib.metadata import version
from pathlib import Path

from datagen import config  # noqa: E402
from datagen.dialogue import from_generator_output  # noqa: E402
from datagen.offline_dialogues import choose_defect, scripted_dialogue  # noqa: E402

DEFECT_RATE = 0.15


def one(args: tuple[str, int]) -> str:
    kind, n = args
    rng = random.Random(f"{kind}:{n}")
    category = config.CATEGORIES[n % len(config.CATEGORIES)]
    cid = f"{kind}-{category}-{n:06d}"
    scenario = {"custom_id": cid, "category": category, "persona": rng.choice(config.PERSONAS), "user_turns": rng.randint(2, 6)}
    defect = None if kind == "gold" else choose_defect(cid, DEFECT_RATE)
    d = from_generator_output(scripted_dialogue(scenario, defect), uid=cid, kind=kind, category=category, tools=config.TOOLS, custom_id=cid, source="offline")
    return d.model_dump_json()


def lines(n: int, *, kind: str = "train", start: int = 0, cache: Path | None = None) -> list[str]:
    """``n`` stored-dialogue JSON lines (read from ``cache`` when it holds exactly them)."""
    if cache is not None and cache.exists():
        data = cache.read_text(encoding="utf-8").splitlines()
        if len(data) == n:
            return data
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool:
        data = pool.map(one, [(kind, start + i) for i in range(n)], chunksize=500)
    if cache is not None:
        cache.write_text("\n".join(data) + "\n", encoding="utf-8")
    return data


def machine() -> str:
    """``nproc``, CPU model and Python version, for the figures."""
    try:
        cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "")
    except OSError:
        cpu = platform.processor()
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    return f"nproc={os.cpu_count()} cpu={cpu!r} python={platform.python_version()} load1={load:.2f}"


def versions() -> str:
    """Installed versions of the libraries measured."""
    return " ".join(f"{p}={version(p)}" for p in ("jsonschema", "pydantic", "datasketch"))


def insert_samples(db, lines) -> None:
    """Insert stored-Dialogue JSON lines as ``samples`` rows in one transaction (raw executemany:
    the benchmark data is already in the stored shape)."""
    import json

    rows = []
    for s in lines:
        d = json.loads(s)
        rows.append((d["uid"], d["custom_id"], d["kind"], d["category"], d["source"], d["model"], s, None, "", "2026-11-21T00:00:00+00:00"))
    with db.conn:
        db.conn.executemany(
            "INSERT INTO samples (uid, custom_id, kind, category, source, model, dialogue, usage, content_hash, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
