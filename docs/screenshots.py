"""Retake the README screenshots in docs/ (headless Debian Chromium, offline backend, a temporary
database): the Review page, a turn with parallel tool calls, the Generate page's mix and cost, the
Batches page's jobs and yield.

    python docs/screenshots.py            # writes docs/review.png, review_parallel_calls.png, generate_mix_cost.png, batches_yield.png

Every dialogue shown is the offline backend's scripted data or the fixed example below.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

# A search, then two detail look-ups in parallel; the second sends an argument the schema does not have.
PARALLEL = [
    {"role": "user", "content": "혹시 근처에 떡볶이 맛집 있을까요?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "search_restaurants", "arguments": json.dumps({"query": "떡볶이"}, ensure_ascii=False)}}
        ],
    },
    {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": json.dumps(
            {
                "restaurants": [
                    {"restaurant_id": "R5724", "name": "신당동 떡볶이", "rating": 4.7},
                    {"restaurant_id": "R3490", "name": "엽기 분식", "rating": 4.5},
                ]
            },
            ensure_ascii=False,
        ),
    },
    {"role": "assistant", "content": "근처에 신당동 떡볶이(4.7점)와 엽기 분식(4.5점)이 있어요. 두 곳 다 자세히 볼까요?"},
    {"role": "user", "content": "네 둘 다 알려주세요."},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_2", "type": "function", "function": {"name": "get_restaurant_detail", "arguments": json.dumps({"restaurant_id": "R5724"})}},
            {
                "id": "call_3",
                "type": "function",
                "function": {"name": "get_restaurant_detail", "arguments": json.dumps({"restaurant_id": "R3490", "page_size": 50})},
            },
        ],
    },
    {
        "role": "tool",
        "tool_call_id": "call_2",
        "content": json.dumps({"restaurant_id": "R5724", "name": "신당동 떡볶이", "min_order": 12000, "delivery_fee": 2000}, ensure_ascii=False),
    },
    {
        "role": "tool",
        "tool_call_id": "call_3",
        "content": json.dumps({"restaurant_id": "R3490", "name": "엽기 분식", "min_order": 14000, "delivery_fee": 3000}, ensure_ascii=False),
    },
    {"role": "assistant", "content": "신당동 떡볶이는 최소 주문 12,000원에 배달비 2,000원, 엽기 분식은 최소 주문 14,000원에 배달비 3,000원이에요."},
]


def _prepare(out: Path) -> None:
    from datagen import batches, config, jobs, review
    from datagen.backend import get_client
    from datagen.ingest import import_file
    from datagen.offline import OfflineOptions
    from datagen.store import get_db

    db = get_db()
    client = get_client(options=OfflineOptions(validate_s=0, seconds_per_request=0))
    job = jobs.create_job(db, kind="train", counts={"search": 12, "menu": 8, "cart": 8, "checkout": 6, "no_call": 6}, seed=7)
    for row in batches.submit_job(db, job["id"], client=client):
        batches.wait(db, row["id"], poll_interval=0.1, client=client)
        batches.retrieve(db, row["id"], ingest=True, client=client)
    uids = [r[0] for r in db.execute("SELECT uid FROM samples ORDER BY rowid")]
    for i, uid in enumerate(uids[:24]):
        if i % 4 == 3:
            review.record_decision(db, uid, annotator="민지", decision="reject", reasons=["unsaid_value"], seconds=20)
        else:
            review.record_decision(db, uid, annotator="민지", decision="accept", seconds=15)
    path = out / "readme_parallel_calls.jsonl"
    path.write_text(json.dumps({"messages": PARALLEL, "tools": config.TOOLS}, ensure_ascii=False) + "\n", encoding="utf-8")
    import_file(db, path)


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DATAGEN_OUTPUT_DIR": tmp,
            "DATAGEN_BACKEND": "offline",
            "DATAGEN_OFFLINE_VALIDATE_S": "0",
            "DATAGEN_OFFLINE_SECONDS_PER_REQUEST": "0",
        }
        for k in ("OPENAI_API_KEY", "HF_TOKEN", "DATAGEN_DB"):
            env.pop(k, None)
        os.environ.clear()
        os.environ.update(env)
        sys.path.insert(0, str(ROOT / "benchmarks"))  # its shared server helper (datagen itself is installed)
        from _fixtures import serve_app

        _prepare(Path(tmp))
        from datagen.store import get_db

        shot_uid = get_db().execute("SELECT uid FROM samples WHERE source LIKE 'import:%' LIMIT 1").fetchone()[0]
        with serve_app(env) as url:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                page = browser.new_page(viewport={"width": 1300, "height": 1150})
                page.goto(url + "/Review")
                page.get_by_label("검토자 이름").fill("서연")
                page.get_by_label("검토자 이름").press("Enter")
                jump = page.get_by_label("uid로 이동")
                jump.fill(shot_uid)
                jump.press("Enter")
                page.get_by_text(f"uid {shot_uid}", exact=False).wait_for(timeout=20_000)
                page.evaluate("document.activeElement && document.activeElement.blur()")
                page.keyboard.press("3")  # one reason chosen: the badge line shows it
                page.get_by_text("선택한 사유", exact=False).wait_for(timeout=20_000)
                page.wait_for_timeout(1500)
                page.evaluate("() => { const s = document.querySelector(\"[data-testid='stSidebarContent']\"); if (s) s.scrollTop = 0; }")
                page.wait_for_timeout(300)
                page.screenshot(path=str(DOCS / "review.png"))
                turn = page.locator("[data-testid='stChatMessage']", has_text="도구 호출 3")
                turn.scroll_into_view_if_needed()
                page.wait_for_timeout(800)
                turn.screenshot(path=str(DOCS / "review_parallel_calls.png"))

                page.set_viewport_size({"width": 1100, "height": 2000})  # tall: the main column scrolls by itself
                page.goto(url + "/Generate")
                page.get_by_text("총 예상 비용", exact=False).wait_for(timeout=30_000)
                page.wait_for_timeout(2500)
                page.locator("[data-testid='stMainBlockContainer']").screenshot(path=str(DOCS / "generate_mix_cost.png"))

                page.set_viewport_size({"width": 1300, "height": 2200})
                page.goto(url + "/Batches")
                page.get_by_text("수율 (카테고리별)").wait_for(timeout=30_000)
                page.wait_for_timeout(2500)
                page.locator("[data-testid='stMainBlockContainer']").screenshot(path=str(DOCS / "batches_yield.png"))
                browser.close()
    for name in ("review", "review_parallel_calls", "generate_mix_cost", "batches_yield"):
        print(DOCS / f"{name}.png")


if __name__ == "__main__":
    main()
