"""Analytics: which arguments the generator sends and with which values, call-sequence patterns and
turns per dialogue, filtered by kind, category and decision; how a judge model's verdicts agree with
people's decisions. Values written by the model are data: they appear only inside charts and tables,
never as markdown."""

import altair as alt
import pandas as pd
import streamlit as st

from datagen import analytics, config, judge
from datagen.ui import backend_banner, db, use_app_navigation

use_app_navigation()  # a direct link: app.py's Korean navigation, not the file names
st.set_page_config(page_title="분석", page_icon=":material/bar_chart:", layout="wide")
st.title("인자 분석")
backend_banner()
st.caption("도구별로 어떤 인자를 얼마나 자주, 어떤 값으로 보내는지 봅니다. 사용자가 말하지 않은 값(기본값 편향)을 찾는 데 씁니다.")

# counts are whole numbers: integer ticks only (no 0.5 dialogues)
COUNT_AXIS = alt.Axis(format="d", tickMinStep=1)
DECISION_KO = {"accept": "승인", "reject": "거절", "skip": "건너뜀", "pending": "미검토"}

with st.sidebar:
    st.subheader("필터")
    kind = st.selectbox("종류", [None, "train", "gold"], format_func=lambda v: "전체" if v is None else v, key="ana_kind")
    categories = st.multiselect(
        "카테고리",
        config.CATEGORIES,
        format_func=lambda c: f"{c} ({config.GOLD_CATEGORIES[c]['name_ko']})",
        key="ana_categories",
        placeholder="전체",
    )
    decisions = st.multiselect("결정", list(analytics.DECISIONS), format_func=lambda d: DECISION_KO.get(d, d), key="ana_decisions", placeholder="전체")


def judge_agreement() -> None:
    """The judge model against people's decisions (datagen.judge.agreement): precision and recall
    overall, per category and per reject reason. Not filtered by the sidebar."""
    st.subheader("판정 모델과 사람의 일치도")
    result = judge.agreement(db())
    if not result["overall"]:
        st.caption("판정 모델의 판정과 사람의 승인·거절이 함께 있는 대화가 아직 없습니다. 배치 페이지에서 판정 작업을 만들 수 있습니다.")
        return
    st.caption(
        "사람이 거절한 대화 = 양성, 승인한 대화 = 음성. 정밀도: 판정 모델이 결함이라 한 대화 중 사람이 거절한 비율 · "
        "재현율: 사람이 거절한 대화 중 판정 모델이 결함이라 한 비율. 중복·평가셋 오염은 대화 하나로는 알 수 없어 사유 표에 없습니다."
    )
    pct = {"정밀도": st.column_config.NumberColumn(format="percent"), "재현율": st.column_config.NumberColumn(format="percent")}
    for o in result["overall"]:
        c = st.columns(4)
        c[0].metric(f"{o['model']}: 판정·결정된 대화", f"{o['n']:,}")
        c[1].metric("정밀도", "—" if o["precision"] is None else f"{o['precision']:.1%}")
        c[2].metric("재현율", "—" if o["recall"] is None else f"{o['recall']:.1%}")
        c[3].metric("맞힌 결함 / 놓친 결함 / 잘못 지적", f"{o['tp']} / {o['fn']} / {o['fp']}")
    cols = {
        "model": "모델",
        "category": "카테고리",
        "n": "대화",
        "tp": "맞힌 결함",
        "fp": "잘못 지적",
        "fn": "놓친 결함",
        "tn": "맞힌 정상",
        "precision": "정밀도",
        "recall": "재현율",
    }
    st.markdown("**카테고리별**")
    st.dataframe(pd.DataFrame(result["by_category"]).rename(columns=cols), hide_index=True, placeholder="—", column_config=pct)
    st.markdown("**거절 사유별**")
    st.dataframe(
        pd.DataFrame(result["by_reason"])
        .drop(columns=["reason"])
        .rename(
            columns={
                "model": "모델",
                "label": "사유",
                "flagged": "판정 모델 지적",
                "flagged_rejected": "그중 사람 거절",
                "precision": "정밀도",
                "rejected_with_reason": "이 사유로 사람 거절",
                "caught": "그중 판정 모델 지적",
                "recall": "재현율",
            }
        ),
        hide_index=True,
        placeholder="—",
        column_config=pct,
    )


filters = {"kind": kind, "categories": categories or None, "decisions": decisions or None}
dialogues = analytics.load_dialogues(db(), **filters)
calls = analytics.load_calls(db(), **filters)

if dialogues.empty:
    st.info("이 필터에 해당하는 대화가 없습니다.")
    judge_agreement()
    st.stop()

c1, c2, c3 = st.columns(3)
c1.metric("대화", f"{len(dialogues):,}")
c2.metric("도구 호출", f"{len(calls):,}")
c3.metric("대화당 평균 턴", f"{dialogues['turns'].mean():.1f}")

st.subheader("도구별 인자 전송 비율")
presence = analytics.argument_presence(calls)
if presence.empty:
    st.info("도구 호출이 없습니다.")
else:
    tools = sorted(presence["tool"].unique())
    tool = st.selectbox("도구", tools, key="ana_tool")
    part = presence[presence["tool"] == tool]
    part = part.assign(declared_ko=part["declared"].map({True: "예", False: "아니오 (스키마 밖)"}))
    st.caption(f"이 도구 호출 {int(part['calls'].iloc[0]):,}건 중 각 인자를 보낸 비율")
    chart = (
        alt.Chart(part)
        .mark_bar()
        .encode(
            x=alt.X("share:Q", title="보낸 비율", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("parameter:N", title="인자", sort="-x"),
            color=alt.Color("declared_ko:N", title="스키마에 있음", legend=alt.Legend(orient="bottom"), scale=alt.Scale(domain=["예", "아니오 (스키마 밖)"])),
            tooltip=[
                alt.Tooltip("parameter:N", title="인자"),
                alt.Tooltip("sent:Q", title="보낸 횟수"),
                alt.Tooltip("calls:Q", title="호출 수"),
                alt.Tooltip("share:Q", title="비율", format=".1%"),
            ],
        )
    )
    st.altair_chart(chart, width="stretch")

    st.subheader("인자 값 분포")
    params = list(part["parameter"][part["sent"] > 0])
    if not params:
        st.info("이 도구 호출에는 보낸 인자가 없습니다.")
    else:
        parameter = st.selectbox("인자", params, key="ana_param")
        values = analytics.argument_values(calls, tool, parameter)
        chart = (
            alt.Chart(values)
            .mark_bar()
            .encode(
                x=alt.X("count:Q", title="횟수", axis=COUNT_AXIS),
                y=alt.Y("value:N", title="값", sort="-x"),
                tooltip=[alt.Tooltip("value:N", title="값"), alt.Tooltip("count:Q", title="횟수"), alt.Tooltip("share:Q", title="비율", format=".1%")],
            )
        )
        st.altair_chart(chart, width="stretch")
        st.dataframe(
            values[["value", "count", "share"]],
            hide_index=True,
            width="stretch",
            column_config={"value": "값", "count": "횟수", "share": st.column_config.NumberColumn("비율", format="percent")},
        )

st.subheader("호출 순서 패턴")
patterns = analytics.sequence_patterns(dialogues, top=20)
chart = (
    alt.Chart(patterns)
    .mark_bar()
    .encode(
        x=alt.X("dialogues:Q", title="대화 수", axis=COUNT_AXIS),
        # no axis title: the long sequence labels would run into it (the subheader names the axis)
        y=alt.Y("sequence:N", title=None, sort="-x", axis=alt.Axis(labelLimit=480)),
        tooltip=[alt.Tooltip("sequence:N", title="호출 순서"), alt.Tooltip("dialogues:Q", title="대화 수"), alt.Tooltip("share:Q", title="비율", format=".1%")],
    )
)
st.altair_chart(chart, width="stretch")

st.subheader("대화당 턴 수")
turns = analytics.turn_distribution(dialogues)
chart = (
    alt.Chart(turns)
    .mark_bar()
    .encode(
        x=alt.X("turns:O", title="턴 수"),
        y=alt.Y("dialogues:Q", title="대화 수", axis=COUNT_AXIS),
        tooltip=[
            alt.Tooltip("turns:O", title="턴 수"),
            alt.Tooltip("dialogues:Q", title="대화 수"),
            alt.Tooltip("user_turns_mean:Q", title="평균 고객 턴", format=".1f"),
        ],
    )
)
st.altair_chart(chart, width="stretch")

judge_agreement()
