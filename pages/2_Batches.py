"""Batches: every batch with its status and progress (refreshing by itself), retrieve and cancel."""

import streamlit as st

from datagen import batches, ingest
from datagen.ui import backend_banner, db

st.set_page_config(page_title="배치", page_icon="📦", layout="wide")
st.title("📦 배치")
backend_banner()


def _progress(row: dict) -> tuple[float, str]:
    c = row["request_counts"] or {}
    total = c.get("total") or 0
    done = (c.get("completed") or 0) + (c.get("failed") or 0)
    return (done / total if total else 0.0), f"{done}/{total} (실패 {c.get('failed') or 0})"


@st.fragment(run_every=2)
def batch_list() -> None:
    rows = batches.list_batches(db())
    if not rows:
        st.info("아직 배치가 없습니다. **생성** 페이지에서 만들어 보세요.")
        return
    for row in rows:
        if row["status"] not in batches.TERMINAL_STATUSES:
            try:
                fresh = batches.refresh(db(), row["id"])
                row.update(status=fresh["status"], request_counts=batches.loads(fresh["request_counts"], {}))
            except batches.BatchError as exc:
                st.error(str(exc))
        with st.container(border=True):
            top = st.columns([3, 2, 2])
            top[0].code(row["id"], language=None)
            top[1].write(f"**{batches.STATUS_KO.get(row['status'], row['status'])}** · {row.get('kind') or ''}")
            top[2].caption(f"제출 {row['created_at']}")
            frac, label = _progress(row)
            st.progress(frac, text=label)
            if row.get("errors") and row["status"] == "failed":
                for e in (row["errors"].get("data") or [])[:5]:
                    st.text(f"line {e.get('line')}: {e.get('code')}: {e.get('message')}")
            b1, b2, _ = st.columns([1, 1, 4])
            if row["status"] in batches.DOWNLOADABLE_STATUSES:
                label = "다시 가져오기" if row.get("retrieved_at") else "결과 가져오기"
                if b1.button(label, key=f"bat_get_{row['id']}", type="secondary" if row.get("retrieved_at") else "primary"):
                    try:
                        got = batches.retrieve(db(), row["id"])
                        parsed = ingest.preprocess(db(), batch_id=row["id"])
                    except batches.BatchError as exc:
                        st.error(str(exc))
                    else:
                        st.success(f"출력 {got['output_lines']}줄, 오류 {got['error_lines']}줄 수신 · 파싱 성공 {parsed['imported']}건, 실패 {parsed['failed']}건")
            if row["status"] in ("validating", "in_progress"):
                if b2.button("취소", key=f"bat_cancel_{row['id']}"):
                    try:
                        batches.cancel(db(), row["id"])
                    except batches.BatchError as exc:
                        st.error(str(exc))


batch_list()
