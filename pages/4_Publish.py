"""Publish: exactly what will ship (accepted records only), push to the Hub, or export locally."""

import os
from collections import Counter

import pandas as pd
import streamlit as st

from datagen import publish, review
from datagen.ui import db

st.set_page_config(page_title="게시", page_icon="🚀", layout="wide")
st.title("🚀 게시")



def _counts(result: dict) -> str:
    return ", ".join(f"{split} {n}건" for split, n in result["counts"].items())


splits = publish.plan(db())
counts = review.decision_counts(db())
st.subheader("게시될 레코드 (승인된 것만)")
if splits:
    per = Counter((split, r["category"]) for split, rows in splits.items() for r in rows)
    st.dataframe(pd.DataFrame([{"split": s, "category": c, "건수": n} for (s, c), n in sorted(per.items())]), hide_index=True)
else:
    st.info("승인된 레코드가 없습니다. **검토** 페이지에서 먼저 승인하세요.")
cols = st.columns(4)
cols[0].metric("train", sum(1 for r in splits.get("train", [])))
cols[1].metric("test (gold)", sum(1 for r in splits.get("test", [])))
cols[2].metric("제외: 거절", counts["reject"])
cols[3].metric("제외: 미검토/건너뜀", counts["pending"] + counts["skip"])

st.subheader("허브에 게시")
repo_id = st.text_input("저장소 ID (owner/name)", key="pub_repo")
private = st.checkbox("비공개 저장소로 만들기", value=True, key="pub_private")
token = os.environ.get("HF_TOKEN")
if not token:
    try:
        token = st.secrets.get("HF_TOKEN")
    except Exception:  # no secrets.toml at all
        token = None
st.caption("HF_TOKEN: " + ("설정됨 (값은 저장하지 않습니다)" if token else "없음 — 허브 대신 로컬로 내보냅니다"))
c1, c2 = st.columns(2)
if c1.button("허브에 게시", type="primary", key="pub_push", disabled=not splits or not repo_id):
    try:
        result = publish.publish_to_hub(db(), repo_id, token=token, private=private, operator=st.session_state.get("annotator") or "app")
    except publish.PublishError as exc:
        st.error(str(exc))
    else:
        st.success(f"{repo_id}에 게시했습니다: {_counts(result)} · revision {result['revision']}")
if c2.button("로컬로 내보내기", key="pub_export", disabled=not splits):
    try:
        result = publish.export_and_record(db(), operator=st.session_state.get("annotator") or "app")
    except publish.PublishError as exc:
        st.error(str(exc))
    else:
        st.success(f"{_counts(result)} → {result['path']} (datasets.load_dataset로 읽을 수 있습니다)")

if splits:
    with st.expander("데이터셋 카드 미리보기"):
        st.code(publish.dataset_card(db(), splits, repo_id=repo_id), language="markdown")
