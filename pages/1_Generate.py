"""Generate: the PM's scenario mix (counts or shares per category, options, presets), a preview of
any row's request, the cost before spending, then create + submit with one click."""

import datetime as dt
import uuid

import altair as alt
import pandas as pd
import streamlit as st

from datagen import batches, config, jobs, pricing, scenarios, settings
from datagen.ui import backend_banner, can, db, identity, use_app_navigation, user_errors

use_app_navigation()  # a direct link: app.py's Korean navigation, not the file names
st.set_page_config(page_title="생성", page_icon=":material/add_circle:", layout="wide")
st.title("대화 생성")
backend_banner()
ss = st.session_state
operator = identity()
ss.setdefault("gen_nonce", uuid.uuid4().hex)
ss.setdefault("gen_counts", scenarios.default_train_counts(20))

presets = jobs.presets(db())


def _load_preset() -> None:
    cfg = presets[ss["gen_preset"]]["config"]
    mix = scenarios.ScenarioMix.from_preset(cfg)
    ss["gen_counts"] = mix.counts
    for key in ("kind", "model", "temperature", "seed"):
        if key in cfg:  # an older preset without the key leaves the form as it is
            ss[f"gen_{key}"] = getattr(mix, key)
    if "personas" in cfg:
        ss["gen_personas"] = list(mix.personas or [])  # saved empty: all personas
    if mix.turn_range:
        ss["gen_turns"] = tuple(mix.turn_range)
    if mix.date_range:
        ss["gen_date_from"], ss["gen_date_to"] = (dt.date.fromisoformat(d) for d in mix.date_range)


def _gold_preset() -> None:
    ss["gen_counts"] = scenarios.gold_counts()
    ss["gen_kind"] = "gold"


with st.sidebar:
    st.subheader("프리셋")
    if presets:
        st.selectbox("불러올 프리셋", list(presets), key="gen_preset", format_func=lambda n: f"{n} (v{presets[n]['versions']})")
        st.button("불러오기", key="gen_load", on_click=_load_preset)
    else:
        st.caption("저장된 프리셋이 없습니다.")
    st.button("골드 프리셋: 8개 카테고리 × 10건", key="gen_gold_preset", on_click=_gold_preset)

kind = st.radio("종류", ["train", "gold"], format_func={"train": "학습용 (train)", "gold": "평가용 골드 (gold)"}.get, horizontal=True, key="gen_kind")
mode = st.radio("입력 방식", ["count", "share"], format_func={"count": "카테고리별 건수", "share": "총량 + 비율(%)"}.get, horizontal=True, key="gen_mode")
counts0 = ss["gen_counts"]
total0 = sum(counts0.values()) or 1
if mode == "share":
    # Shares are what the PM edits here; they are kept apart from gen_counts (recomputing them from
    # rounded counts would drift) and reset when gen_counts changes (preset, gold preset).
    if ss.get("gen_shares_for") != counts0:
        ss["gen_shares_for"] = dict(counts0)
        ss["gen_shares"] = {c: round(100 * counts0.get(c, 0) / total0, 1) for c in config.CATEGORIES}
    shares0 = ss["gen_shares"]
    total = int(st.number_input("총 건수", 0, 1_000_000, total0, 10, key="gen_total"))
    plan = scenarios.split_total(total, shares0) if any(shares0.values()) else {c: 0 for c in shares0}
    rows = {c: (plan.get(c, 0), shares0.get(c, 0.0)) for c in config.CATEGORIES}
    table_key = f"gen_table_share_{hash((tuple(sorted(shares0.items())), total))}"  # the count column follows total and shares
else:
    rows = {c: (int(counts0.get(c, 0)), round(100 * counts0.get(c, 0) / total0, 1)) for c in config.CATEGORIES}
    table_key = f"gen_table_count_{hash(tuple(sorted(counts0.items())))}"
table = pd.DataFrame([{"category": c, "이름": config.GOLD_CATEGORIES[c]["name_ko"], "건수": n, "비율(%)": share} for c, (n, share) in rows.items()])
edited = st.data_editor(
    table,
    hide_index=True,
    disabled=["category", "이름", "비율(%)" if mode == "count" else "건수"],
    column_config={
        "건수": st.column_config.NumberColumn(min_value=0, max_value=1_000_000, step=1),
        "비율(%)": st.column_config.NumberColumn(min_value=0.0, max_value=100.0, step=0.5),
    },
    key=table_key,
)
if mode == "share":
    shares = {r["category"]: float(r["비율(%)"]) if pd.notna(r["비율(%)"]) else 0.0 for r in edited.to_dict("records")}  # a cleared cell is 0
    counts = scenarios.split_total(total, shares) if any(shares.values()) else {c: 0 for c in shares}
    if shares != shares0:  # a share was edited: show its counts in the table too (a fresh table with the edit in it)
        ss["gen_shares"] = shares
        st.rerun()
else:
    counts = {r["category"]: int(r["건수"] or 0) for r in edited.to_dict("records")}

with st.expander("시나리오 옵션", expanded=False):
    personas = st.multiselect("페르소나 / 말투 (비우면 전체)", config.PERSONAS, key="gen_personas")
    turn_range = st.slider("사용자 턴 수", 1, 10, config.TURN_RANGE, key="gen_turns")
    d1, d2 = st.columns(2)
    date_from = d1.date_input("대화 날짜 시작", dt.date(2026, 1, 1), key="gen_date_from")
    date_to = d2.date_input("대화 날짜 끝", dt.date(2026, 12, 31), key="gen_date_to")
    max_per_batch = int(st.number_input("배치당 최대 요청 수 (API 한도 50,000)", 1, jobs.MAX_REQUESTS_PER_BATCH, jobs.MAX_REQUESTS_PER_BATCH, key="gen_max"))
c1, c2, c3 = st.columns(3)
model = c1.selectbox(
    "모델", list(pricing.price_table()), index=list(pricing.price_table()).index(config.DEFAULT_MODEL), key="gen_model", accept_new_options=True
)
temperature = c2.number_input("temperature", 0.0, 2.0, float(config.DEFAULT_TEMPERATURE), 0.1, key="gen_temperature")
seed = int(c3.number_input("seed", 0, 2**31 - 1, 42, 1, key="gen_seed"))
n_total = sum(counts.values())
st.write(f"총 **{n_total:,}**건")
mix = scenarios.ScenarioMix(
    kind=kind,
    counts=counts,
    seed=seed,
    model=model,
    temperature=temperature,
    personas=tuple(personas) or None,
    turn_range=tuple(turn_range),
    date_range=(date_from.isoformat(), date_to.isoformat()),
)
options = mix.options()

if n_total:
    chart_df = pd.DataFrame([{"category": c, "건수": n} for c, n in counts.items()])
    st.altair_chart(
        alt.Chart(chart_df)
        .mark_bar()
        .encode(x=alt.X("category:N", sort=None, title=None), y=alt.Y("건수:Q", axis=alt.Axis(format="d", tickMinStep=1)), tooltip=["category", "건수"]),
        width="stretch",
    )

with st.expander("요청 미리보기"):
    row = st.selectbox("카테고리", [c for c, n in counts.items() if n > 0] or [None], key="gen_preview_cat")
    if row:
        with user_errors():  # e.g. a reversed date range
            sc = scenarios.make_scenarios(kind, {row: 1}, seed, start_seq=jobs.next_seqs(db(), kind), **options)[0]
            st.code(jobs.build_request_line(sc, model=model, temperature=temperature)["body"]["messages"][-1]["content"], language=None)
            with st.popover("요청 전체 JSON"):
                st.json(jobs.build_request_line(sc, model=model, temperature=temperature), expanded=1)


@st.cache_data(ttl=600, max_entries=16, show_spinner="토큰 수를 세는 중…")
def _estimate(kind, counts_items, seed, model, temperature, options_items, history_items):
    lines, factors = jobs.preview_lines(kind, dict(counts_items), seed, model=model, temperature=temperature, **dict(options_items))
    return pricing.scale(pricing.estimate(lines, model, history=dict(history_items)), factors)


st.subheader("예상 비용 (제출 전)")
estimate = None
if n_total:
    with user_errors():
        history = pricing.expected_output_tokens(db())
        estimate = _estimate(kind, tuple(sorted(counts.items())), seed, model, temperature, tuple(sorted(options.items())), tuple(sorted(history.items())))
if estimate:
    order = {c: i for i, c in enumerate(config.CATEGORIES)}  # the mix table's order
    cost = pd.DataFrame(sorted(estimate["rows"], key=lambda r: order.get(r["category"], len(order)))).rename(
        columns={
            "category": "카테고리",
            "requests": "요청",
            "input_tokens": "입력 토큰",
            "cached_tokens": "캐시 입력",
            "output_tokens": "예상 출력",
            "cost_usd": "비용 (USD)",
        }
    )
    cost["비용 (USD)"] = cost["비용 (USD)"].round(4)  # the same 4 decimals as the total below
    st.dataframe(cost, hide_index=True, placeholder="—", column_config={"비용 (USD)": st.column_config.NumberColumn(format="$%.4f")})
    st.metric("총 예상 비용 (배치 50% 할인, 캐시 할인 적용)", f"${estimate['total']['cost_usd']:,.4f}")
    st.caption(
        (
            "출력 토큰: 지난 배치의 카테고리별 평균"
            if estimate["output_source"] == "history"
            else f"출력 토큰: 기록이 없어 요청당 {pricing.DEFAULT_OUTPUT_TOKENS:,} 토큰으로 가정"
        )
        + (" · 큰 믹스는 카테고리당 500건 표본으로 추정" if estimate.get("sampled") else "")
        + " · 가격표: datagen/pricing.py"
    )

b1, b2 = st.columns([1, 3])
name = b2.text_input("프리셋 이름", key="gen_preset_name", placeholder="예: 11월 학습 믹스")
if b1.button("프리셋 저장", key="gen_save_preset", disabled=not name.strip() or not can("pm")):
    with user_errors():
        jobs.save_preset(db(), name, mix.to_preset(), author=operator)
        st.toast(f"프리셋 '{name.strip()}' 저장됨")

if not can("pm"):
    st.caption("배치를 만들고 제출하려면 PM 권한이 필요합니다.")
if st.button("생성하고 제출", type="primary", key="gen_submit", disabled=n_total == 0 or not can("pm")):
    with user_errors("제출하지 못했습니다: "):
        job = jobs.create_job(
            db(), mix=mix, operator=operator, backend=settings.backend_name(), idempotency_key=ss["gen_nonce"], estimate=estimate, max_requests=max_per_batch
        )
        rows = batches.submit_job(db(), job["id"], max_requests=max_per_batch, actor=operator)
        ss["gen_nonce"] = uuid.uuid4().hex  # the next click is a new job
        st.success(f"작업 {job['id']}: {job['n_requests']:,}건 요청, 배치 {len(rows)}개 제출됨. **배치** 페이지에서 진행 상황을 보세요.")
