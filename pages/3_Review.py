"""Review: one dialogue at a time, the dialogue first under a one-row decision bar. A accept ·
X reject (reasons 1–9, 0, O) · S skip · U undo · J next / K previous (vim's direction: j = down) ·
E edit; adjudicate disputed gold samples. Context (reason buttons, memo, duplicates, gold overlap,
history) follows the dialogue."""

import time

import pandas as pd
import streamlit as st

from datagen import audit, config, judge, quality, review, triage
from datagen.errors import DatagenError
from datagen.ui import (
    backend_banner,
    can,
    db,
    diff_text,
    edit_dialogue,
    fmt_time,
    focus_first_field,
    identity,
    md_literal,
    physical_key_shortcuts,
    render_dialogue,
    scroll_to_top,
    use_app_navigation,
)

use_app_navigation()  # a direct link: app.py's Korean navigation, not the file names
st.set_page_config(page_title="검토", page_icon=":material/rate_review:", layout="wide")

ss = st.session_state
ss.setdefault("rev_reasons", [])
ss.setdefault("rev_started", time.monotonic())
ss.setdefault("rev_nav", 0)


def _show(uid: str | None) -> None:
    if uid != ss.get("rev_uid"):
        ss["rev_nav"] = ss.get("rev_nav", 0) + 1  # a new sample on screen: scroll to its top
    ss["rev_uid"] = uid
    ss["rev_started"] = time.monotonic()
    ss["rev_reasons"] = []
    ss["rev_editing"] = False


JUMP_LIMIT = 20


def _open(uid: str) -> None:
    _show(uid)
    ss["rev_pinned"] = True
    ss.pop("rev_matches", None)


def _jump() -> None:
    typed = (ss.get("rev_jump") or "").strip()
    found = review.find_uids(db(), typed, limit=JUMP_LIMIT)
    ss.pop("rev_matches", None)
    if len(found) == 1:
        _open(found[0])
    elif found:  # an ambiguous prefix: list the matches instead of opening the first
        ss["rev_matches"] = (typed, found)
    elif typed:
        ss["rev_flash"] = "그런 uid가 없습니다."
    ss["rev_jump"] = ""


annotator = identity()
backend_banner(sidebar=True)
if "rev_open_lot" in ss:  # "검토 열기" on the Audit page: that lot's samples, in my queue
    ss["rev_lot"], ss["rev_decision"] = ss.pop("rev_open_lot"), "todo"
with st.sidebar:
    st.subheader("필터")
    kind = st.selectbox("종류", [None, "train", "gold"], format_func=lambda v: "전체" if v is None else v, key="rev_kind")
    category = st.selectbox(
        "카테고리",
        [None, *config.CATEGORIES, "imported"],
        format_func=lambda v: "전체" if v is None else f"{v} ({config.GOLD_CATEGORIES[v]['name_ko']})" if v in config.GOLD_CATEGORIES else v,
        key="rev_category",
    )
    decision = st.selectbox(
        "결정",
        ["todo", None, "pending", "accept", "reject", "skip", "disputed"],
        format_func={
            "todo": "내가 검토할 것",
            None: "전체",
            "pending": "미검토",
            "accept": "승인",
            "reject": "거절",
            "skip": "건너뜀",
            "disputed": "불일치 (조정)",
        }.get,
        key="rev_decision",
    )
    lane = st.selectbox(
        "레인",
        [None, *triage.LANES],
        format_func=lambda v: "전체" if v is None else triage.LANE_KO[v],
        key="rev_lane",
        help="골드: 항상 두 명 · 검사 결과 있음: 사람이 먼저 · 깨끗함: 감사 로트로 승인될 수 있음",
    )
    open_lots = {s.id: s for s in audit.lots(db()) if s.state in ("auditing", "failed")}
    if ss.get("rev_lot") is not None and ss["rev_lot"] not in open_lots:
        ss["rev_lot"] = None  # a lot that is no longer open (approved, revoked)
    lot_id = (
        st.selectbox(
            "감사 로트",
            [None, *open_lots],
            format_func=lambda v: (
                "전체"
                if v is None
                else (
                    f"#{v} {open_lots[v].category} · 감사 표본 ({open_lots[v].audited}/{open_lots[v].sample_size})"
                    if open_lots[v].state == "auditing"
                    else f"#{v} {open_lots[v].category} · 불합격: 전수 검토"
                )
            ),
            key="rev_lot",
        )
        if open_lots
        else None
    )
    checks = sorted(quality.finding_counts(db()))
    check_id = (
        st.selectbox(
            "검사 결과",
            [None, "error", *checks],
            format_func=lambda v: "전체" if v is None else "오류 있음" if v == "error" else "판정 모델이 지적" if v == quality.JUDGE_CHECK else v,
            key="rev_check",
        )
        if checks
        else None
    )
    options = review.filter_options(db())
    batch_ids = options["batches"]
    batch_id = st.selectbox("배치", [None, *batch_ids], format_func=lambda v: "전체" if v is None else v, key="rev_batch") if batch_ids else None
    annotators = options["annotators"]
    decided_by = st.selectbox("검토자", [None, *annotators], format_func=lambda v: "전체" if v is None else v, key="rev_by") if annotators else None
    text = st.text_input("대화 내용 검색", key="rev_text", placeholder="예: 짜장면")
    order = st.selectbox(
        "순서",
        ["queue", "findings", "underfilled"],
        format_func={"queue": "미검토 먼저", "findings": "오류 많은 것 먼저", "underfilled": "목표 미달 카테고리 먼저"}.get,
        key="rev_order",
    )
    st.text_input("uid로 이동", key="rev_jump", placeholder="uid 또는 앞부분", on_change=_jump)
    if ss.get("rev_matches"):
        typed, matches = ss["rev_matches"]
        more = len(matches) > JUMP_LIMIT
        st.caption(
            f"'{md_literal(typed)}'(으)로 시작하는 uid가 {JUMP_LIMIT}건 넘게 있습니다. 처음 {JUMP_LIMIT}건:"
            if more
            else f"'{md_literal(typed)}'(으)로 시작하는 uid가 {len(matches)}건 있습니다. 고르세요:"
        )
        for i, m in enumerate(matches[:JUMP_LIMIT]):
            st.button(md_literal(f"{review.sample_label(db(), m)} · {m}"), key=f"rev_match_{i}", on_click=_open, args=(m,), width="stretch")
    skip_errors = st.toggle(
        "오류 샘플 건너뛰기",
        key="rev_skip_errors",
        help="오류 검사 결과가 있는 샘플은 사람이 그 결과를 보고 승인하기 전에는 출판되지 않습니다. "
        "켜면 그런 샘플은 큐에서 빠지고(미검토로 남음) 경고·판정 모델·감사 표본만 검토합니다.",
    )
    show_progress = st.toggle("카테고리별 진행 (승인 / 목표) 보기", key="rev_show_progress")

targets = review.shortfall(db(), kind) if order == "underfilled" else {}
flt = review.QueueFilter(
    kind=kind,
    category=category,
    decision=decision,
    annotator=annotator or None,
    decided_by=decided_by,
    batch_id=batch_id,
    check_id=check_id,
    text=text,
    order=order,
    targets=targets,
    lane=lane,
    lot_id=lot_id,
    lot_sample=lot_id is None or open_lots[lot_id].state != "failed",
    skip_errors=skip_errors,
)
signature = (kind, category, decision, check_id, batch_id, decided_by, text, order, annotator, lane, lot_id, skip_errors)
done, total = review.progress(db(), flt)
mine = review.decided_by_count(db(), flt, annotator)
in_filter = review.count(db(), flt)
skipped = review.skipped_errors(db(), flt)
st.progress(
    done / total if total else 0.0,
    text=f"확정 {done} / {total} · 내 결정 {mine} · 이 필터 {in_filter}건" + (f" · 건너뛴 오류 샘플 {skipped}건 (미검토로 남음)" if skipped else ""),
)
if show_progress:
    st.dataframe(pd.DataFrame(review.category_progress(db(), kind)), hide_index=True)

if ss.get("rev_flash"):
    st.toast(ss.pop("rev_flash"))

if ss.get("rev_signature") != signature and not ss.get("rev_pinned"):
    ss["rev_signature"] = signature
    _show(review.next_uid(db(), flt))
ss["rev_pinned"] = False
ss["rev_signature"] = signature
current = ss.get("rev_uid")
if current is None:
    st.info("이 필터에 해당하는 대화가 없습니다." if decision != "todo" else "검토할 대화가 없습니다. 필터를 바꾸거나 새 배치를 가져오세요.")
    st.stop()

revision_id, d = review.current_revision(db(), current)
state = review.state_of(db(), current) or {}
findings = quality.findings_for(db(), current)
shown = (revision_id, tuple(f["check_id"] for f in findings if f["severity"] == "error"))  # what a decision on this screen is bound to
scroll_to_top(ss["rev_nav"])
st.caption(
    md_literal(
        f"uid {d.uid} · {d.kind} · {d.category} · {d.custom_id or d.source}"
        + (f" · 고객 ID {d.user_id}" if d.user_id else "")
        + f" · 상태: {review.STATE_KO.get(state.get('state'), '')}"
        + (f" ({review.DECISION_KO.get(state.get('decision'), '')})" if state.get("decision") else "")
        + (" · 수정본" if revision_id else "")
    )
)
lane_info = triage.describe(db(), current)
st.caption(md_literal(f"레인: {lane_info['lane_ko']} — {lane_info['why']}" + (f" {lane_info['lot_note']}" if lane_info["lot_note"] else "")))


def _decide(choice: str, adjudication: bool = False, shown_on_screen: tuple = shown) -> None:
    if not annotator:
        ss["rev_flash"] = "먼저 사이드바에 검토자 이름을 입력하세요."
        return
    reasons = list(ss.get("rev_reasons") or []) if choice == "reject" else []
    if choice == "reject" and not reasons:
        ss["rev_flash"] = "거절 사유를 하나 이상 고르세요 (숫자 키 1–9, 0, O)."
        return
    try:
        review.record_decision(
            db(),
            current,
            annotator=annotator,
            decision=choice,
            reasons=reasons,
            note=ss.get("rev_note") or "",
            seconds=round(time.monotonic() - ss.get("rev_started", time.monotonic()), 2),
            adjudication=adjudication,
            shown_revision=shown_on_screen[0],
            shown_findings=list(shown_on_screen[1]),
        )
    except review.StaleDecision as exc:  # the sample changed under the person: show it again as it is now
        ss["rev_stale"] = str(exc)
        ss["rev_pinned"] = True
        ss["rev_started"] = time.monotonic()
        return
    except DatagenError as exc:  # no role, a name that is not an identity…
        ss["rev_flash"] = md_literal(exc)
        return
    ss["rev_note"] = ""
    ss["rev_flash"] = f"{review.DECISION_KO[choice]}: {md_literal(review.sample_label(db(), current))}"
    _show(review.next_uid(db(), flt, exclude=current))
    ss["rev_pinned"] = True


def _undo() -> None:
    if not annotator:
        ss["rev_flash"] = "먼저 사이드바에 검토자 이름을 입력하세요."
        return
    try:
        undone = review.undo(db(), annotator=annotator)
    except DatagenError as exc:
        ss["rev_flash"] = md_literal(exc)
        return
    if undone is None:
        ss["rev_flash"] = "되돌릴 결정이 없습니다."
        return
    ss["rev_flash"] = f"되돌림: {review.DECISION_KO[undone['decision']]} {md_literal(review.sample_label(db(), undone['uid']))}"
    _show(undone["uid"])
    ss["rev_pinned"] = True


def _toggle_reason(key: str) -> None:
    chosen = list(ss.get("rev_reasons") or [])
    ss["rev_reasons"] = [r for r in chosen if r != key] if key in chosen else [*chosen, key]


def _save_edit() -> None:
    try:
        edited = review.Dialogue.model_validate_json(ss["rev_pending_edit"])
        review.save_revision(db(), current, edited, annotator=annotator, seconds=round(time.monotonic() - ss["rev_started"], 2))
    except DatagenError as exc:
        ss["rev_flash"] = f"저장하지 못했습니다: {md_literal(exc)}"
        return
    ss["rev_flash"] = "수정본을 저장했습니다. 승인하면 수정본이 게시됩니다."
    ss["rev_editing"] = False
    ss["rev_pinned"] = True


def _step(delta: int) -> None:
    target = review.neighbour(db(), current, flt, delta)
    if target:
        _show(target)
        ss["rev_pinned"] = True


def _toggle_edit() -> None:
    ss["rev_editing"] = not ss.get("rev_editing")
    ss["rev_focus"] = ss["rev_editing"]


if ss.get("rev_stale"):
    st.error(md_literal(ss.pop("rev_stale")), icon=":material/sync_problem:")
if not annotator:
    st.warning("결정하려면 사이드바에 검토자 이름을 입력하세요 (Enter를 누르면 바로 단축키를 쓸 수 있습니다).")
disabled = not annotator or not can("annotator")
chosen = ss["rev_reasons"]
bar = st.container(horizontal=True, vertical_alignment="center")
bar.button("승인 (A)", type="primary", shortcut="A", on_click=_decide, args=("accept", False, shown), key="rev_accept", disabled=disabled)
bar.button(
    f"거절 (X){f' · 사유 {len(chosen)}' if chosen else ''}",
    shortcut="X",
    on_click=_decide,
    args=("reject", False, shown),
    key="rev_reject",
    disabled=disabled,
    help="거절 사유: " + " · ".join(f"{review.REASON_KEYS[r]} {label}" for r, label in review.REJECT_REASONS.items()),
)
bar.button("건너뛰기 (S)", shortcut="S", on_click=_decide, args=("skip", False, shown), key="rev_skip", disabled=disabled)
bar.button("되돌리기 (U)", shortcut="U", on_click=_undo, key="rev_undo", disabled=disabled)
bar.button("다음 (J)", shortcut="J", on_click=_step, args=(1,), key="rev_next")
bar.button("이전 (K)", shortcut="K", on_click=_step, args=(-1,), key="rev_prev")
bar.button("편집 닫기 (E)" if ss.get("rev_editing") else "편집 (E)", key="rev_edit", shortcut="E", on_click=_toggle_edit, disabled=disabled)
with st.sidebar:  # scripts only: kept out of the main column's flow
    physical_key_shortcuts(
        {
            "KeyA": "승인 (A)",
            "KeyX": "거절 (X)",
            "KeyS": "건너뛰기 (S)",
            "KeyU": "되돌리기 (U)",
            "KeyJ": "다음 (J)",
            "KeyK": "이전 (K)",
            "KeyE": "편집",
            **{("Digit" + k if k.isdigit() else "Key" + k): f"{k} " for k in review.REASON_KEYS.values()},
        }
    )
st.caption(
    "거절 사유 (숫자 키로 고른 뒤 X): "
    + " · ".join(f"{review.REASON_KEYS[r]} {label}" for r, label in review.REJECT_REASONS.items())
    + " — J 다음 · K 이전 (vim처럼 j가 아래/다음)"
)
if chosen:
    st.markdown("선택한 사유: " + " ".join(f":red-badge[{review.REASON_KEYS[r]} {review.REJECT_REASONS[r]}]" for r in chosen))

if state.get("state") == "disputed" or decision == "disputed":
    with st.container(border=True):
        st.markdown("**조정: 검토자 의견이 다릅니다**")
        st.dataframe(pd.DataFrame(review.votes(db(), current)), hide_index=True)
        a1, a2, _ = st.columns([1, 1, 4])
        no_adj = not annotator or not can("adjudicator")
        a1.button("조정: 승인", key="rev_adj_accept", on_click=_decide, args=("accept", True, shown), disabled=no_adj)
        a2.button("조정: 거절", key="rev_adj_reject", on_click=_decide, args=("reject", True, shown), disabled=no_adj)

cluster = quality.duplicate_cluster(db(), current)
overlaps = quality.contamination_report(db(), uid=current)
context = ([f"중복 묶음 {len(cluster)}건"] if cluster else []) + ([f"평가셋(골드) 겹침 {len(overlaps)}건"] if overlaps else [])
rule_findings = [f for f in findings if f.get("source", "rule") == "rule"]
if rule_findings:
    n_err = sum(f["severity"] == "error" for f in rule_findings)
    line = (
        f"자동 검사: 오류 {n_err}건, 경고 {len(rule_findings) - n_err}건 (해당 턴 옆에 표시)"
        if n_err
        else f"자동 검사: 경고 {len(rule_findings)}건 (해당 턴 옆에 표시)"
    )
    line += "".join(f" · {c} (아래)" for c in context)
    if n_err:
        st.error(line, icon=":material/error:")
    else:
        st.warning(line, icon=":material/warning:")
elif context:
    st.warning(" · ".join(context) + " (대화 아래에 있습니다)", icon=":material/content_copy:")
for verdict in judge.verdicts_for(db(), current):  # a model's verdict, beside the rules' and apart from them
    said = md_literal(judge.verdict_summary(verdict)) + (" — 근거 인용은 해당 턴 옆에 (모델의 판정: 참고용 경고)" if verdict["verdict"] == "defect" else "")
    if verdict["revision_id"] != revision_id:  # judged another version: its turn numbers may not match this one
        said += " · 지금 보이는 수정본이 아니라 그 전 버전을 판정했습니다 (배치 페이지에서 '다시 판정')"
    if verdict["verdict"] == "defect":
        st.warning(said, icon=":material/gavel:")
    else:
        st.info(said, icon=":material/gavel:")

if ss.get("rev_editing"):
    edited = edit_dialogue(d, key=f"rev_edit_{current}_{revision_id}")
    diff = diff_text(d, edited)
    st.code(diff or "(변경 없음)", language="diff")
    ss["rev_pending_edit"] = edited.model_dump_json()
    st.caption("Tab으로 이동, Ctrl+Enter로 입력 적용, Ctrl+S로 저장")
    st.button("수정본 저장 (Ctrl+S)", key="rev_save", shortcut="Ctrl+S", on_click=_save_edit, type="primary")
    if ss.pop("rev_focus", False):
        focus_first_field()
else:
    render_dialogue(d, findings)

st.divider()
st.caption("거절 사유 (숫자 키로 선택/해제한 뒤 X)")
reason_row = st.container(horizontal=True)
for rkey, label in review.REJECT_REASONS.items():
    k = review.REASON_KEYS[rkey]
    reason_row.button(
        f"{k} {label}", key=f"rev_reason_{rkey}", shortcut=k, on_click=_toggle_reason, args=(rkey,), type="primary" if rkey in chosen else "secondary"
    )
st.text_input("메모 (선택)", key="rev_note")
if cluster:
    with st.expander(f"중복 묶음 {cluster[0]['cluster'][:8]}… ({len(cluster)}건, 첫 번째가 남길 대표)"):
        st.dataframe(pd.DataFrame(cluster).rename(columns={"uid": "uid", "kind": "종류", "similarity": "유사도"}), hide_index=True)
if overlaps:
    with st.expander(f"평가셋(골드) 겹침 {len(overlaps)}건"):
        st.dataframe(pd.DataFrame(overlaps)[["gold_uid", "method", "overlap", "band"]], hide_index=True)
with st.expander("이력"):
    events = review.history(db(), current)
    if events:
        st.dataframe(pd.DataFrame([{**e, "at": fmt_time(e["at"])} for e in events]), hide_index=True)
    else:
        st.caption("아직 이력이 없습니다.")
