"""Generate: scenario mix per category, model and seed, a preview of one request, create + submit."""

import json

import pandas as pd
import streamlit as st

from datagen import batches, config, jobs, scenarios, settings
from datagen.ui import backend_banner, db

st.set_page_config(page_title="생성", page_icon="🧪", layout="wide")
st.title("🧪 대화 생성")
backend_banner()



def _gold_preset() -> None:
    st.session_state["gen_counts"] = scenarios.gold_counts()
    st.session_state["gen_kind"] = "gold"


kind = st.radio("종류", ["train", "gold"], format_func={"train": "학습용 (train)", "gold": "평가용 골드 (gold)"}.get, horizontal=True, key="gen_kind")
st.button("골드 프리셋: 8개 카테고리 × 10건", key="gen_gold_preset", on_click=_gold_preset)
counts0 = st.session_state.get("gen_counts") or scenarios.default_train_counts(20)
table = pd.DataFrame(
    [{"category": c, "이름": config.GOLD_CATEGORIES[c]["name_ko"], "건수": int(counts0.get(c, 0))} for c in config.CATEGORIES]
)
edited = st.data_editor(
    table,
    hide_index=True,
    disabled=["category", "이름"],
    column_config={"건수": st.column_config.NumberColumn(min_value=0, max_value=50_000, step=1)},
    key=f"gen_table_{hash(json.dumps(counts0, sort_keys=True))}",
)
counts = {r["category"]: int(r["건수"] or 0) for r in edited.to_dict("records")}
c1, c2, c3 = st.columns(3)
model = c1.text_input("모델", value=config.DEFAULT_MODEL, key="gen_model")
temperature = c2.number_input("temperature", 0.0, 2.0, float(config.DEFAULT_TEMPERATURE), 0.1, key="gen_temp")
seed = int(c3.number_input("seed", 0, 2**31 - 1, 42, 1, key="gen_seed"))
st.write(f"총 **{sum(counts.values())}**건")

with st.expander("요청 미리보기 (첫 번째 요청)"):
    first = next((c for c, n in counts.items() if n > 0), None)
    if first:
        sc = scenarios.make_scenarios(kind, {first: 1}, seed, start_seq=jobs.next_seqs(db(), kind))[0]
        st.code(json.dumps(jobs.build_request_line(sc, model=model, temperature=temperature), ensure_ascii=False, indent=2), language="json")
    else:
        st.caption("건수가 0보다 큰 카테고리가 없습니다.")

if st.button("생성하고 제출", type="primary", key="gen_submit", disabled=sum(counts.values()) == 0):
    try:
        job = jobs.create_job(db(), kind=kind, counts=counts, seed=seed, model=model, temperature=temperature, operator=st.session_state.get("annotator") or "app", backend=settings.backend_name())
        row = batches.submit(db(), job["input_file"])
    except (ValueError, batches.BatchError) as exc:
        st.error(f"제출하지 못했습니다: {exc}")
    else:
        st.success(f"작업 {job['id']}: {job['n_requests']}건 요청, 배치 {row['id']} 제출됨. **배치** 페이지에서 진행 상황을 보세요.")
