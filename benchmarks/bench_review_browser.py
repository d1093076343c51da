"""Headless Chromium, keyboard only: key press → next dialogue visible, over --n dialogues
(issue "Review workbench" target: median ≤ 400 ms with 50 dialogues).

    python benchmarks/bench_review_browser.py --n 50
    python benchmarks/bench_review_browser.py --n 30 --db-size 100000   # the same keys on a large database
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from _fixtures import build_db, machine, percentile, serve_app  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
UID_JS = "() => { const el = [...document.querySelectorAll('p')].find(p => p.innerText.startsWith('uid ')); return el ? el.innerText : null; }"


def main() -> None:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50, help="decisions timed (n - 1 key presses)")
    ap.add_argument("--db-size", type=int, default=None, help="samples in the database (default: --n)")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATAGEN_OUTPUT_DIR": tmp, "DATAGEN_BACKEND": "offline"}
        os.environ.update(env)
        built = build_db(Path(tmp) / "datagen.db", args.db_size or args.n)
        print(f"database: {args.db_size or args.n:,} samples, built in {built:.1f} s")
        with serve_app(env) as url:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                t0 = time.perf_counter()
                page.goto(url + "/Review")
                page.get_by_label("검토자 이름").fill("bench")
                page.get_by_label("검토자 이름").press("Enter")
                page.get_by_role("button", name="승인 (A)").wait_for()
                page.wait_for_function("() => ![...document.querySelectorAll('button')].some(b => b.innerText.startsWith('승인') && b.disabled)")
                print(f"open Review, type the name, decision buttons live: {time.perf_counter() - t0:.1f} s")
                times = []
                for i in range(args.n - 1):
                    before = page.evaluate(UID_JS)
                    page.evaluate("document.activeElement && document.activeElement.blur()")
                    t = time.perf_counter()
                    page.keyboard.press("a")
                    page.wait_for_function(f"(b) => ({UID_JS})() !== b", arg=before, timeout=20_000, polling="raf")
                    times.append((time.perf_counter() - t) * 1000)
                browser.close()
    print(
        f"key → next dialogue visible over {len(times)} decisions: median {percentile(times, 50):.0f} ms, "
        f"p95 {percentile(times, 95):.0f} ms, max {max(times):.0f} ms (target: median ≤ 400 ms)"
    )


if __name__ == "__main__":
    main()
