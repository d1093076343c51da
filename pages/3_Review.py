"""Review: one dialogue at a time; accept (A) / reject (X) / skip (S), stored with the annotator's name."""

import time

import streamlit as st

from datagen import config, review
from datagen.ui import annotator_input, db, render_dialogue

st.set_page_config(page_title="검토", page_icon="✅", layout="wide")
st.title("✅ 검토")


def _jump() -> None:
    found = review.find_uid(db(), (st.session_state.get("rev_jump") or "").strip())
    if found:
        st.session_state["rev_uid"] = found
        st.session_state["rev_started"] = time.monotonic()
        keys = ("rev_kind", "rev_category", "rev_decision")
        st.session_state["rev_filter"] = tuple(st.session_state.get(k) for k in keys)
    else:
        st.session_state["rev_flash"] = "그런 uid가 없습니다."
    st.session_state["rev_jump"] = ""


annotator = annotator_input()
with st.sidebar:
    st.subheader("필터")
    kind = st.selectbox("종류", [None, "train", "gold"], format_func=lambda v: "전체" if v is None else v, key="rev_kind")
    category = st.selectbox("카테고리", [None, *config.CATEGORIES], format_func=lambda v: "전체" if v is None else f"{v} ({config.GOLD_CATEGORIES[v]['name_ko']})", key="rev_category")
    decision = st.selectbox("결정", ["pending", None, "accept", "reject", "skip"], format_func=lambda v: "전체" if v is None else review.DECISION_KO[v], key="rev_decision")
    st.text_input("uid로 이동", key="rev_jump", placeholder="uid 또는 앞부분", on_change=_jump)

flt = review.QueueFilter(kind=kind, category=category, decision=decision)
done, total = review.progress(db(), review.QueueFilter(kind=kind, category=category))
st.progress(done / total if total else 0.0, text=f"검토 완료 {done} / {total}")

if st.session_state.get("rev_flash"):
    st.toast(st.session_state.pop("rev_flash"))

uids = review.queue(db(), flt, limit=1)
current = st.session_state.get("rev_uid")
if current is None or st.session_state.get("rev_filter") != (kind, category, decision):
    current = uids[0] if uids else None
    st.session_state["rev_uid"] = current
    st.session_state["rev_filter"] = (kind, category, decision)
    st.session_state["rev_started"] = time.monotonic()

if current is None:
    st.info("이 필터에 해당하는 대화가 없습니다.")
    st.stop()

d = review.get_dialogue(db(), current)
last = review.latest_decision(db(), current)
st.caption(f"uid {d.uid} · {d.kind} · {d.category} · {d.custom_id or ''} · 현재 결정: {review.DECISION_KO[last['decision']] if last else review.DECISION_KO['pending']}")


def decide(choice: str) -> None:
    if not annotator:
        st.session_state["rev_flash"] = "먼저 사이드바에 검토자 이름을 입력하세요."
        return
    reasons = st.session_state.get("rev_reasons") or [] if choice == "reject" else []
    if choice == "reject" and not reasons:
        st.session_state["rev_flash"] = "거절 사유를 하나 이상 고르세요."
        return
    review.record_decision(
        db(),
        current,
        annotator=annotator,
        decision=choice,
        reasons=reasons,
        note=st.session_state.get("rev_note") or "",
        seconds=round(time.monotonic() - st.session_state.get("rev_started", time.monotonic()), 2),
    )
    st.session_state["rev_flash"] = f"{review.DECISION_KO[choice]}: {current[:8]}"
    st.session_state["rev_reasons"] = []
    st.session_state["rev_note"] = ""
    nxt = [u for u in review.queue(db(), flt, limit=2) if u != current]
    st.session_state["rev_uid"] = nxt[0] if nxt else None
    st.session_state["rev_started"] = time.monotonic()


if not annotator:
    st.warning("결정하려면 사이드바에 검토자 이름을 입력하세요.")
cols = st.columns([1.2, 1.2, 1.5, 5])
cols[0].button("승인 (A)", type="primary", shortcut="A", on_click=decide, args=("accept",), key="rev_accept", disabled=not annotator)
cols[1].button("거절 (X)", shortcut="X", on_click=decide, args=("reject",), key="rev_reject", disabled=not annotator)
cols[2].button("건너뛰기 (S)", shortcut="S", on_click=decide, args=("skip",), key="rev_skip", disabled=not annotator)
with cols[3]:
    st.multiselect("거절 사유", list(review.REJECT_REASONS), format_func=lambda k: f"{review.REJECT_REASONS[k]} ({k})", key="rev_reasons")
    st.text_input("메모", key="rev_note")

render_dialogue(d)
