"""One real-browser smoke test: Streamlit served for real, driven by Playwright in Debian's Chromium."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from datagen.ingest import import_file
from datagen.store import connect

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).parent / "fixtures"
UID_LINE = re.compile(r"^uid [0-9a-f]{8}-")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

pytestmark = [
    pytest.mark.browser,  # `python -m pytest -q -m "not browser"`: the inner loop without Chromium
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"), reason="Debian chromium is not installed"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(isolated_env):
    """``streamlit run app.py`` on a free loopback port with the test's data folder; polls /_stcore/health."""
    port = _free_port()
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
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.25)
        else:
            pytest.fail("streamlit did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _open_review(p, server: str, name: str = "민지", on_dialog=None, viewport=None):
    """A Chromium page on Review with the annotator name entered and the decision buttons live;
    ``on_dialog`` is attached before the first load."""

    browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport=viewport or {"width": 1400, "height": 1000})
    if on_dialog:
        page.on("dialog", on_dialog)
    page.goto(server + "/Review")
    field = page.get_by_label("검토자 이름")
    field.fill(name)
    field.press("Enter")
    _wait_decision_buttons(page)
    return browser, page


ONE_LIVE_ACCEPT = """() => {
  const b = [...document.querySelectorAll('button')].filter(x => x.innerText.trim().startsWith('승인 (A)'));
  return b.length === 1 && !b[0].disabled;
}"""


def _wait_decision_buttons(page) -> None:
    """Wait until the rerun has settled: exactly one accept button (no stale copy), enabled, twice
    in a row 300 ms apart."""
    for _ in range(2):
        page.wait_for_function(ONE_LIVE_ACCEPT, timeout=20_000)
        page.wait_for_timeout(300)
    page.wait_for_function(ONE_LIVE_ACCEPT, timeout=20_000)


def test_review_two_dialogues_with_the_keyboard(server, isolated_env):
    from playwright.sync_api import expect, sync_playwright

    db = connect(isolated_env / "output" / "datagen.db")
    import_file(db, FIX / "seed001_dataset.jsonl")
    with sync_playwright() as p:
        browser, page = _open_review(p, server)
        expect(page.get_by_text("확정 0 / 3")).to_be_visible(timeout=20_000)
        first = page.get_by_text(UID_LINE).first.inner_text()
        _press(page, "a")  # accept
        expect(page.get_by_text("확정 1 / 3")).to_be_visible(timeout=20_000)
        _wait_decision_buttons(page)
        second = page.get_by_text(UID_LINE).first.inner_text()
        assert first != second
        _press(page, "4")  # reason 4: ungrounded_id
        expect(page.locator("[data-testid='stBaseButton-primary']", has_text="근거 없는 ID")).to_have_count(1, timeout=20_000)
        _press(page, "x")  # reject with the chosen reason
        expect(page.get_by_text("확정 2 / 3")).to_be_visible(timeout=20_000)
        browser.close()
    rows = list(db.query("SELECT uid, annotator, decision, reasons FROM reviews ORDER BY id"))
    assert [(r["annotator"], r["decision"]) for r in rows] == [("민지", "accept"), ("민지", "reject")]
    assert rows[1]["reasons"] == '["ungrounded_id"]'
    assert rows[0]["uid"] in first and rows[1]["uid"] in second


def _press(page, key: str) -> None:
    """Press ``key`` once the rerun has settled (a key sent mid-rerun can reach a stale button and
    be lost: CI saw reason 4 never selected on a slower host)."""
    _wait_decision_buttons(page)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press(key)


def _press_korean_layout(page, code: str, hangul: str) -> None:
    """A key press as Chromium reports it while the Korean IME is on: key 'Process'/jamo, keyCode 229."""
    _wait_decision_buttons(page)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    cdp = page.context.new_cdp_session(page)
    for kind in ("keyDown", "keyUp"):
        cdp.send("Input.dispatchKeyEvent", {"type": kind, "key": hangul, "code": code, "windowsVirtualKeyCode": 229, "nativeVirtualKeyCode": 229})


def test_five_dialogues_keyboard_only_with_edit_and_korean_layout(server, isolated_env):
    from playwright.sync_api import expect, sync_playwright

    db = connect(isolated_env / "output" / "datagen.db")
    import_file(db, FIX / "seed001_dataset.jsonl")
    import_file(db, FIX / "messages_dataset.jsonl")
    from datagen import review

    uids = review.queue(db)  # the order the page serves them: flagged first (issue 17), then arrival
    with sync_playwright() as p:
        browser, page = _open_review(p, server)

        def done(n):
            expect(page.get_by_text(f"확정 {n} / 5")).to_be_visible(timeout=20_000)

        _press(page, "a")  # 1: accept
        done(1)
        _press_korean_layout(page, "KeyA", "ㅁ")  # 2: accept with the Korean layout on
        done(2)
        _press(page, "4")  # 3: reject with two reasons (4 ungrounded_id, 3 unsaid_value)
        expect(page.locator("[data-testid='stBaseButton-primary']", has_text="근거 없는 ID")).to_have_count(1, timeout=20_000)
        _press(page, "3")
        expect(page.locator("[data-testid='stBaseButton-primary']", has_text="사용자가 말하지 않은 값")).to_have_count(1, timeout=20_000)
        _press(page, "x")
        done(3)
        _press(page, "e")  # 4: edit the first turn, save, accept
        expect(page.get_by_role("button", name="수정본 저장 (Ctrl+S)")).to_be_visible(timeout=20_000)
        page.wait_for_function("document.activeElement && document.activeElement.tagName === 'TEXTAREA'", timeout=20_000)
        page.keyboard.press("Control+a")
        page.keyboard.type("장바구니에 뭐 담겨 있는지 알려주세요")
        page.keyboard.press("Control+Enter")
        expect(page.get_by_text('+  "content": "장바구니에 뭐 담겨 있는지 알려주세요"', exact=False)).to_be_visible(timeout=20_000)
        page.keyboard.press("Control+s")
        expect(page.get_by_text("수정본", exact=False).first).to_be_visible(timeout=20_000)
        expect(page.get_by_role("button", name="편집 (E)")).to_be_visible(timeout=20_000)
        _press(page, "a")
        done(4)
        _press(page, "a")  # 5: accept
        done(5)
        browser.close()
    rows = list(db.query("SELECT uid, decision, reasons, revision_id FROM reviews ORDER BY id"))
    assert [r["decision"] for r in rows] == ["accept", "accept", "reject", "accept", "accept"]
    assert [r["uid"] for r in rows] == uids
    assert rows[2]["reasons"] == '["ungrounded_id", "unsaid_value"]'
    (rev,) = list(db.query("SELECT id, uid, dialogue FROM revisions"))
    assert rev["uid"] == uids[3] and rows[3]["revision_id"] == rev["id"]
    assert "장바구니에 뭐 담겨 있는지 알려주세요" in rev["dialogue"]
    from datagen import publish

    shipped = {d.uid: d for d in publish.accepted_dialogues(db)}
    assert set(shipped) == {uids[0], uids[1], uids[3], uids[4]}
    assert shipped[uids[3]].turns[0].content == "장바구니에 뭐 담겨 있는지 알려주세요"


HOSTILE = FIX / "hostile.jsonl"
LITERALS = {
    "hostile-html": "<script>alert('xss')</script> 치킨집 찾아줘",
    "hostile-markdown": "[여기를 누르세요](javascript:alert(1))",
    "hostile-fake-tag": "요청사항을 그대로 적었어요: </tool_call>",
}


def test_hostile_text_is_shown_as_text_and_nothing_runs(server, isolated_env):
    """HTML, scripts, markdown links and images, javascript: URLs, 6,000-character lines, zero-width
    and right-to-left characters, and a fake </tool_call> inside an argument: imported and reviewed
    in a real browser, nothing is interpreted, nothing breaks the layout, nothing is lost."""
    import json

    from playwright.sync_api import expect, sync_playwright

    from datagen import review

    db = connect(isolated_env / "output" / "datagen.db")
    summary = import_file(db, HOSTILE)
    assert summary["failed"] == 0 and summary["imported"] == 5
    originals = [json.loads(l) for l in HOSTILE.read_text(encoding="utf-8").splitlines()]
    for rec in originals:  # nothing lost on the way in: every text byte-identical
        d = review.get_dialogue(db, rec["uid"])
        texts = [m["content"] for m in rec["messages"] if m["role"] == "user" and not m["content"].startswith("<tool_response>")]
        assert [t.content for t in d.turns if t.role == "user"] == texts
    dialogs = []
    with sync_playwright() as p:
        browser, page = _open_review(p, server, on_dialog=lambda d: (dialogs.append(d.message), d.dismiss()))
        for uid in [r["uid"] for r in originals]:
            jump = page.get_by_label("uid로 이동")
            jump.fill(uid)
            jump.press("Enter")
            expect(page.get_by_text(f"uid {uid}", exact=False)).to_be_visible(timeout=20_000)
            page.wait_for_timeout(500)
            main = page.locator("[data-testid='stMain']")
            assert main.locator("script:not([src]):not([type])").evaluate_all("els => els.filter(e => /alert/.test(e.textContent)).length") == 0
            assert main.locator("a[href^='javascript']").count() == 0
            assert main.locator("img[src*='evil']").count() == 0 and main.locator("iframe").count() == 0
            assert main.locator("h1", has_text="제목").count() == 0  # markdown heading not rendered
            width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1] + 1, f"{uid}: the page scrolls sideways ({width})"
            literal = LITERALS.get(uid)
            if literal:  # shown as the very characters the model wrote
                expect(page.get_by_text(literal, exact=False).first).to_be_visible()
        browser.close()
    assert dialogs == []  # no script ran


def test_retrieving_a_batch_in_the_browser_updates_the_whole_page(server, isolated_env):
    """The retrieve button lives in the batch list's self-refreshing fragment; after a click the
    page outside it (the result message, the jobs' retry counts, the yield table) shows the
    retrieved batch, not the state from before the click."""
    from playwright.sync_api import expect, sync_playwright

    from datagen import batches, jobs
    from datagen.backend import get_client
    from datagen.offline import OfflineOptions

    db = connect(isolated_env / "output" / "datagen.db")
    client = get_client(options=OfflineOptions(validate_s=0, seconds_per_request=0, error_rate=0.3, truncation_rate=0))
    job = jobs.create_job(db, kind="train", counts={"search": 6, "menu": 4}, seed=5)
    (row,) = batches.submit_job(db, job["id"], client=client)
    batches.wait(db, row["id"], poll_interval=0.1, client=client)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        page.goto(server + "/Batches")
        expect(page.get_by_role("button", name="실패한 요청 0건 재시도")).to_be_visible(timeout=20_000)
        page.get_by_role("button", name="결과 가져오기").click()
        expect(page.get_by_text("파싱 성공", exact=False)).to_be_visible(timeout=20_000)
        failed = db.execute("SELECT COUNT(*) FROM requests WHERE status = 'failed'").fetchone()[0]
        assert failed > 0
        expect(page.get_by_role("button", name=f"실패한 요청 {failed}건 재시도")).to_be_visible(timeout=20_000)
        page.get_by_role("button", name="다시 가져오기").click()  # idempotent, and says so
        expect(page.get_by_text("새로 받은 줄이 없습니다", exact=False)).to_be_visible(timeout=20_000)
        assert db.execute("SELECT COUNT(*) FROM requests WHERE status = 'failed'").fetchone()[0] == failed
        browser.close()


# ----------------------------------------------------------------------------- an annotator's day (issue 15)

MAIN_SCROLL = """() => {
  const els = [document.scrollingElement, ...document.querySelectorAll("[data-testid='stMain'], [data-testid='stAppViewContainer'], section.main")];
  return Math.max(...els.filter(Boolean).map(e => e.scrollTop));
}"""
SCROLL_DOWN = """() => {
  for (const e of [document.scrollingElement, ...document.querySelectorAll("[data-testid='stMain'], [data-testid='stAppViewContainer'], section.main")]) {
    if (e && e.scrollHeight > e.clientHeight + 10) e.scrollTop = e.scrollHeight;
  }
}"""


def _accepts(db) -> int:
    return db.execute("SELECT COUNT(*) FROM reviews WHERE decision = 'accept'").fetchone()[0]


def _wait_db(page, predicate, timeout_ms: int = 20_000) -> bool:
    for _ in range(timeout_ms // 250):
        if predicate():
            return True
        page.wait_for_timeout(250)
    return predicate()


def test_review_dialogue_is_on_screen_first(server, isolated_env):
    """Item 1: on a 1280 × 720 laptop screen the first turn of the dialogue is inside the viewport on
    arrival; the reason keys are stated in one help line above it, the reason buttons and memo come
    after it."""
    from playwright.sync_api import sync_playwright

    db = connect(isolated_env / "output" / "datagen.db")
    import_file(db, FIX / "seed001_dataset.jsonl")
    with sync_playwright() as p:
        browser, page = _open_review(p, server, viewport={"width": 1280, "height": 720})
        first_turn = page.locator("[data-testid='stMain'] [data-testid='stChatMessage']").first
        first_turn.wait_for(timeout=20_000)
        box = first_turn.bounding_box()
        page.screenshot(path=str(isolated_env / "review_first_screen.png"))
        assert box["y"] + box["height"] <= 720, f"the first turn ends at {box['y'] + box['height']:.0f} px, below the fold"
        memo = page.get_by_label("메모 (선택)").bounding_box()
        assert memo["y"] > box["y"], "the memo comes after the dialogue"
        assert page.get_by_text("1 잘못된 도구 · 2 잘못된 인자", exact=False).first.bounding_box()["y"] < box["y"]
        browser.close()


def test_review_keys_work_right_after_typing_the_name(server, isolated_env):
    """Item 2: name, Enter, then A accepts (no click in between); the name stays as typed."""
    from playwright.sync_api import sync_playwright

    db = connect(isolated_env / "output" / "datagen.db")
    import_file(db, FIX / "seed001_dataset.jsonl")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server + "/Review")
        field = page.get_by_label("검토자 이름")
        field.fill("민지")
        field.press("Enter")
        _wait_decision_buttons(page)
        page.keyboard.press("a")  # no blur, no click
        assert _wait_db(page, lambda: _accepts(db) == 1), "A after the name did not accept"
        assert page.get_by_label("검토자 이름").input_value() == "민지"
        browser.close()
    assert [r[0] for r in db.execute("SELECT annotator FROM reviews")] == ["민지"]


def test_review_next_dialogue_starts_at_the_top(server, isolated_env):
    """Item 3: scrolled to the bottom of one dialogue, a decision shows the next one from its top."""
    from playwright.sync_api import sync_playwright

    db = connect(isolated_env / "output" / "datagen.db")
    import_file(db, FIX / "seed001_dataset.jsonl")
    with sync_playwright() as p:
        browser, page = _open_review(p, server, viewport={"width": 1400, "height": 600})
        first = page.get_by_text(UID_LINE).first.inner_text()
        page.evaluate(SCROLL_DOWN)
        page.wait_for_timeout(300)
        assert page.evaluate(MAIN_SCROLL) > 200, "the fixture dialogue should be taller than the viewport"
        _press(page, "a")
        assert _wait_db(page, lambda: _accepts(db) == 1)
        page.wait_for_function(f"() => !document.body.innerText.includes({first!r})", timeout=20_000)
        page.wait_for_timeout(800)
        assert page.evaluate(MAIN_SCROLL) == 0
        uid_box = page.get_by_text(UID_LINE).first.bounding_box()
        assert 0 <= uid_box["y"] < 600
        browser.close()


def test_review_name_survives_a_reload(server, isolated_env):
    """Item 6 (local mode): the reviewer name is kept in this browser across a reload."""
    from playwright.sync_api import sync_playwright

    db = connect(isolated_env / "output" / "datagen.db")
    import_file(db, FIX / "seed001_dataset.jsonl")
    with sync_playwright() as p:
        browser, page = _open_review(p, server, name="김 민지")
        page.reload()
        _wait_decision_buttons(page)
        assert page.get_by_label("검토자 이름").input_value() == "김 민지"
        _press(page, "a")
        assert _wait_db(page, lambda: _accepts(db) == 1)
        browser.close()
    assert [r[0] for r in db.execute("SELECT annotator FROM reviews")] == ["김 민지"]


def test_review_j_is_next_and_k_previous_like_vim(server, isolated_env):
    """Item 7: vim's direction (j = down = next, k = up = previous), stated on the page."""
    from playwright.sync_api import expect, sync_playwright

    db = connect(isolated_env / "output" / "datagen.db")
    import_file(db, FIX / "seed001_dataset.jsonl")
    uids = [r[0] for r in db.execute("SELECT uid FROM samples ORDER BY rowid")]
    from datagen import review

    assert review.queue(db)[0] == uids[2]  # the flagged one is served first (issue 17); J / K follow arrival order
    with sync_playwright() as p:
        browser, page = _open_review(p, server)
        expect(page.get_by_text(f"uid {uids[2]}", exact=False)).to_be_visible(timeout=20_000)
        expect(page.get_by_text("J 다음 · K 이전", exact=False)).to_be_visible()
        _press(page, "k")
        expect(page.get_by_text(f"uid {uids[1]}", exact=False)).to_be_visible(timeout=20_000)
        _press(page, "k")
        expect(page.get_by_text(f"uid {uids[0]}", exact=False)).to_be_visible(timeout=20_000)
        _press(page, "j")
        expect(page.get_by_text(f"uid {uids[1]}", exact=False)).to_be_visible(timeout=20_000)
        browser.close()


NAV = ["홈", "생성", "배치", "검토", "게시", "감사", "분석", "관리"]
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f]")


NAV_LABELS = "() => [...document.querySelectorAll(\"[data-testid='stSidebarNavLink'] span[label]\")].map(e => e.getAttribute('label'))"


def _nav_labels(page) -> list[str]:
    """The sidebar's page labels once the page has settled: they read :data:`NAV` (a direct link on
    a fresh server shows the file names until the page's switch to app.py's navigation has rerun,
    which took over 3 s on a loaded 2-core host), or 20 s have passed; then 1 s more, so a later
    change back would show."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(f"() => JSON.stringify(({NAV_LABELS})()) === {json.dumps(json.dumps(NAV, ensure_ascii=False))}", timeout=20_000)
    except PlaywrightTimeout:
        pass  # the caller's assertion on the labels says what they are
    page.wait_for_timeout(1000)
    return page.evaluate(NAV_LABELS)


def test_navigation_reads_korean_and_opens_the_pages(server, isolated_env):
    """Item 10: the sidebar reads 홈, 생성, 배치, 검토, 게시, 감사, 분석, 관리 (not file names); each link
    opens its page, whose URL path stays the English one (/Review, …)."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        # a direct link first, on a fresh server (before app.py ever ran): still app.py's navigation
        page.goto(server + "/Generate")
        page.wait_for_selector("[data-testid='stSidebarNavLink']", timeout=20_000)
        assert _nav_labels(page) == NAV
        expect(page.get_by_role("heading", name="대화 생성", exact=True)).to_be_visible(timeout=20_000)
        assert page.url.endswith("/Generate")
        page.goto(server)
        page.wait_for_selector("[data-testid='stSidebarNavLink']", timeout=20_000)
        assert _nav_labels(page) == NAV
        page.locator("[data-testid='stSidebarNavLink']", has_text="검토").click()
        expect(page.get_by_label("검토자 이름")).to_be_visible(timeout=20_000)
        page.wait_for_url("**/Review", timeout=20_000)
        expect(page.get_by_text("검토할 대화가 없습니다", exact=False)).to_be_visible(timeout=20_000)
        page.goto(server + "/Publish")
        expect(page.get_by_role("heading", name="게시", exact=True)).to_be_visible(timeout=20_000)
        assert _nav_labels(page) == NAV
        browser.close()


def test_status_does_not_depend_on_emoji(server, isolated_env):
    """Item 12: no page shows an emoji (a machine without an emoji font draws empty boxes): findings
    say [오류] / [경고], avatars and badges are Material icons (a font Streamlit ships)."""
    from playwright.sync_api import expect, sync_playwright

    db = connect(isolated_env / "output" / "datagen.db")
    import_file(db, FIX / "seed001_dataset.jsonl")
    uid = db.execute("SELECT uid FROM samples ORDER BY rowid LIMIT 1").fetchone()[0]
    with db.conn:
        db.execute(
            "INSERT INTO findings (uid, check_id, severity, turn, reason, message) VALUES (?, 'ungrounded_id', 'error', 1, 'ungrounded_id', '근거 없는 주문 ID')",
            [uid],
        )
        db.execute(
            "INSERT INTO findings (uid, check_id, severity, turn, reason, message) VALUES (?, 'korean_share', 'warning', 0, 'unnatural_korean', '한국어 비율 낮음')",
            [uid],
        )
    with sync_playwright() as p:
        browser, page = _open_review(p, server)
        expect(page.get_by_text("[오류] [ungrounded_id] 근거 없는 주문 ID")).to_be_visible(timeout=20_000)
        expect(page.get_by_text("[경고] [korean_share] 한국어 비율 낮음")).to_be_visible()
        avatars = page.locator("[data-testid='stMain'] [data-testid='stChatMessage']")
        assert avatars.count() >= 3
        assert avatars.evaluate_all("els => els.every(e => e.querySelector(\"[data-testid='stIconMaterial']\"))")
        for path in ["", "/Generate", "/Batches", "/Review", "/Publish", "/Analytics", "/Admin"]:
            page.goto(server + path)
            page.wait_for_selector("[data-testid='stSidebarNavLink']", timeout=20_000)
            page.wait_for_timeout(1500)
            text = page.locator("body").inner_text()
            assert not EMOJI.findall(text), f"{path or '/'}: {sorted(set(EMOJI.findall(text)))}"
        browser.close()


def test_stored_ids_in_toasts_captions_and_the_jump_list_stay_text(server, isolated_env):
    """Item 4's new places that show stored ids (toast, jump list) and the uid line read markdown:
    a custom_id written as a link, bold and a colour directive shows as those very characters."""
    from playwright.sync_api import expect, sync_playwright

    db = connect(isolated_env / "output" / "datagen.db")
    import_file(db, FIX / "seed001_dataset.jsonl")
    hostile = "[보기](javascript:alert(1)) **굵게** :red[빨강] <b>x</b>"
    uids = [r[0] for r in db.execute("SELECT uid FROM samples ORDER BY rowid")]
    assert sum(u.startswith(uids[0][:8]) for u in uids) >= 2  # time-ordered uids share this head: the jump lists them
    with db.conn:
        db.execute("UPDATE samples SET custom_id = ? WHERE uid = ?", [hostile, uids[0]])
    dialogs = []
    with sync_playwright() as p:
        browser, page = _open_review(p, server, on_dialog=lambda d: (dialogs.append(d.message), d.dismiss()))
        jump = page.get_by_label("uid로 이동")
        jump.fill(uids[0])
        jump.press("Enter")
        expect(page.get_by_text(f"uid {uids[0]}", exact=False)).to_be_visible(timeout=20_000)
        _press(page, "a")
        expect(page.locator("[data-testid='stToast']", has_text=hostile)).to_be_visible(timeout=20_000)
        jump = page.get_by_label("uid로 이동")
        jump.fill(uids[0][:8])
        jump.press("Enter")
        expect(page.get_by_role("button", name=f"{hostile} · {uids[0]}")).to_be_visible(timeout=20_000)
        assert page.locator("a[href^='javascript']").count() == 0
        assert page.locator("[data-testid='stMain'] b, [data-testid='stSidebar'] b", has_text="x").count() == 0
        browser.close()
    assert dialogs == []


def test_review_shows_the_judge_finding_in_a_real_browser(server, isolated_env, monkeypatch):
    """A judge job run through the (offline) Batch API; the Review page, served for real, shows the
    judge's finding beside the turn as the very text the model wrote (markup in its evidence quote
    stays text), and the verdict line names the model. The screenshots are kept in the test's folder
    (``judge_review_top.png``, ``judge_review.png``) for a person to look at."""
    from playwright.sync_api import expect, sync_playwright

    from datagen import batches, jobs, judge
    from datagen.store import write_transaction

    monkeypatch.setenv("DATAGEN_OFFLINE_ERROR_RATE", "0")
    monkeypatch.setenv("DATAGEN_OFFLINE_TRUNCATION_RATE", "0")
    monkeypatch.setenv("DATAGEN_OFFLINE_DEFECT_RATE", "0.6")
    db = connect(isolated_env / "output" / "datagen.db")
    job = jobs.create_job(db, kind="train", counts={"cart": 6, "checkout": 6}, seed=2)
    for row in batches.submit_job(db, job["id"]):
        batches.wait(db, row["id"], poll_interval=0.01, timeout=60)
        batches.retrieve(db, row["id"], ingest=True)
    got = judge.plan(db, model="gpt-4.1", job_id=job["id"])
    for row in batches.submit_job(db, got["job"]["id"]):
        batches.wait(db, row["id"], poll_interval=0.01, timeout=60)
        batches.retrieve(db, row["id"], ingest=True)
    finding = db.execute("SELECT uid, turn, message FROM findings WHERE source = 'judge:gpt-4.1' AND turn IS NOT NULL ORDER BY id").fetchone()
    assert finding, "the offline judge flagged nothing"
    uid, turn, message = finding
    # one more verdict, by another model, whose evidence quote is markup: it must stay text
    hostile = "<img src=x onerror=alert(1)> **굵게** [링크](javascript:alert(1))"
    with write_transaction(db):
        judge.store_verdicts(
            db,
            [
                (
                    None,
                    {
                        "uid": uid,
                        "model": "gpt-4o",
                        "custom_id": f"judge:gpt-4o:{uid}:1",
                        "revision_id": None,
                        "verdict": "defect",
                        "reason": "unnatural_korean",
                        "evidence": hostile,
                        "response_model": "gpt-4o",
                        "usage": None,
                        "turns": [{"turn": turn, "verdict": "defect", "reason": "unnatural_korean", "evidence": hostile}],
                    },
                )
            ],
        )
    dialogs = []
    with sync_playwright() as p:
        browser, page = _open_review(p, server, on_dialog=lambda d: (dialogs.append(d.message), d.dismiss()))
        jump = page.get_by_label("uid로 이동")
        jump.fill(uid)
        jump.press("Enter")
        expect(page.get_by_text(f"uid {uid}", exact=False)).to_be_visible(timeout=20_000)
        page.wait_for_timeout(800)
        main = page.locator("[data-testid='stMain']")
        expect(main.get_by_text("[경고] " + message, exact=True)).to_be_visible()
        expect(main.get_by_text(f'근거: "{hostile}"', exact=False)).to_be_visible()
        expect(main.get_by_text("판정 모델 gpt-4.1: 결함", exact=False).first).to_be_visible()
        expect(main.get_by_text("판정 모델 gpt-4o: 결함", exact=False).first).to_be_visible()
        assert main.locator("img[src='x']").count() == 0 and main.locator("a[href^='javascript']").count() == 0
        page.screenshot(path=str(isolated_env / "judge_review_top.png"), full_page=False)
        main.get_by_text("[경고] " + message, exact=True).scroll_into_view_if_needed()
        page.screenshot(path=str(isolated_env / "judge_review.png"), full_page=False)
        browser.close()
    assert dialogs == []


def test_audit_page_opens_the_audit_sample_in_review_keeping_the_name(server, isolated_env):
    """Issue 17: "감사 표본 검토 열기" on the Audit page opens Review filtered to the lot's audit
    sample, with the name typed on the Audit page still there, and the lane said in Korean."""
    from audit_data import job_samples
    from playwright.sync_api import expect, sync_playwright

    from datagen import audit

    db = connect(isolated_env / "output" / "datagen.db")
    job_samples(db, 31)
    audit.set_params(db, p0=0.3, confidence=0.9, actor=None)
    lot_id = audit.start(db, "job_t", "search", actor=None, seed=1)
    sample = {r[0] for r in db.execute("SELECT uid FROM lot_items WHERE lot_id = ? AND draw IS NOT NULL", [lot_id])}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server + "/Audit")
        field = page.get_by_label("검토자 이름")
        field.fill("민지")
        field.press("Enter")
        expect(page.get_by_text(f"로트 #{lot_id} · search", exact=False)).to_be_visible(timeout=20_000)
        page.get_by_role("button", name="감사 표본 검토 열기").click()
        page.wait_for_url("**/Review", timeout=20_000)
        _wait_decision_buttons(page)
        assert page.get_by_label("검토자 이름").input_value() == "민지"
        expect(page.get_by_text(f"감사 로트 #{lot_id}의 감사 표본입니다", exact=False)).to_be_visible(timeout=20_000)
        _press(page, "a")
        assert _wait_db(page, lambda: db.execute("SELECT COUNT(*) FROM reviews WHERE annotator = '민지' AND decision = 'accept'").fetchone()[0] == 1)
        browser.close()
    assert db.execute("SELECT uid FROM reviews").fetchone()[0] in sample
