"""Analytics: which arguments the generator sends and with which values, call-sequence patterns and
turns per dialogue, filtered by kind, category and decision. Values written by the model are data:
they appear only inside charts and tables, never as markdown."""

import altair as alt
import streamlit as st

from datagen import analytics, config
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
    decisions = st.multiselect(
        "결정", list(analytics.DECISIONS), format_func=lambda d: DECISION_KO.get(d, d), key="ana_decisions", placeholder="전체"
    )

filters = {"kind": kind, "categories": categories or None, "decisions": decisions or None}
dialogues = analytics.load_dialogues(db(), **filters)
calls = analytics.load_calls(db(), **filters)

if dialogues.empty:
    st.info("이 필터에 해당하는 대화가 없습니다.")
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
    st.caption(f"이 도구 호출 {int(part['calls'].iloc[0]):,}건 중 각 인자를 보낸 비율")
    chart = (
        alt.Chart(part)
        .mark_bar()
        .encode(
            x=alt.X("share:Q", title="보낸 비율", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("parameter:N", title="인자", sort="-x"),
            color=alt.Color("declared:N", title="스키마에 있음", legend=alt.Legend(orient="bottom")),
            tooltip=[alt.Tooltip("parameter:N", title="인자"), alt.Tooltip("sent:Q", title="보낸 횟수"),
                     alt.Tooltip("calls:Q", title="호출 수"), alt.Tooltip("share:Q", title="비율", format=".1%")],
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
                tooltip=[alt.Tooltip("value:N", title="값"), alt.Tooltip("count:Q", title="횟수"),
                         alt.Tooltip("share:Q", title="비율", format=".1%")],
            )
        )
        st.altair_chart(chart, width="stretch")
        st.dataframe(values[["value", "count", "share"]], hide_index=True, width="stretch",
                     column_config={"value": "값", "count": "횟수", "share": st.column_config.NumberColumn("비율", format="percent")})

st.subheader("호출 순서 패턴")
patterns = analytics.sequence_patterns(dialogues, top=20)
chart = (
    alt.Chart(patterns)
    .mark_bar()
    .encode(
        x=alt.X("dialogues:Q", title="대화 수", axis=COUNT_AXIS),
        # no axis title: the long sequence labels would run into it (the subheader names the axis)
        y=alt.Y("sequence:N", title=None, sort="-x", axis=alt.Axis(labelLimit=480)),
        tooltip=[alt.Tooltip("sequence:N", title="호출 순서"), alt.Tooltip("dialogues:Q", title="대화 수"),
                 alt.Tooltip("share:Q", title="비율", format=".1%")],
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
        tooltip=[alt.Tooltip("turns:O", title="턴 수"), alt.Tooltip("dialogues:Q", title="대화 수"),
                 alt.Tooltip("user_turns_mean:Q", title="평균 고객 턴", format=".1f")],
    )
)
st.altair_chart(chart, width="stretch")
