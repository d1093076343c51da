"""Audit: approve a job's clean lane per category from a random audit sample (datagen.audit).

The publisher sets the acceptable defect rate, the confidence and the defects allowed; per job and
category the page shows the lot (size, sample size, share); "감사 시작" draws the sample; auditors
open it in Review; the publisher approves a lot whose bound holds, or revokes an approval."""

import pandas as pd
import streamlit as st

from datagen import audit, triage
from datagen.errors import DatagenError
from datagen.ui import backend_banner, can, db, fmt_time, identity, use_app_navigation

use_app_navigation()  # a direct link: app.py's Korean navigation, not the file names
st.set_page_config(page_title="감사", page_icon=":material/fact_check:", layout="wide")
st.title("감사: 표본 검사로 로트 승인")
backend_banner()
me = identity()
ss = st.session_state

st.caption(
    "로트 = 한 생성 작업의 한 카테고리에서 자동 검사·모델 판정 결과가 하나도 없는(깨끗한) 미검토 학습 샘플. "
    "무작위 표본을 사람이 검토해 결함률의 단측 Clopper-Pearson 상한이 허용 결함률 이하이면 게시자가 로트 전체를 승인합니다. "
    "허용 결함 수보다 많은 결함이 나오면 로트는 불합격이 되고 모든 샘플이 검토 대기열로 돌아갑니다(전수 검토). "
    "골드 샘플은 로트로 승인되지 않습니다."
)

if ss.get("aud_flash"):
    kind, text = ss.pop("aud_flash")
    if kind == "ok":
        st.success(text)
    else:
        st.error(text)


def _run(action, *args, ok: str, **kwargs) -> None:
    try:
        result = action(db(), *args, **kwargs)
    except DatagenError as exc:
        ss["aud_flash"] = ("error", str(exc))
    else:
        ss["aud_flash"] = ("ok", ok.format(result=result))


# ----------------------------------------------------------------------------- parameters
current = audit.params(db())
st.subheader("감사 기준 (게시자)")
is_publisher = bool(me) and can("publisher")
c1, c2, c3, c4 = st.columns(4)
p0_pct = c1.number_input("허용 결함률 p0 (%)", min_value=0.1, max_value=50.0, value=round(100 * current.p0, 3), step=0.5, key="aud_p0")
conf_pct = c2.number_input("신뢰도 (%)", min_value=50.0, max_value=99.9, value=round(100 * current.confidence, 3), step=0.5, key="aud_conf")
allowed = int(c3.number_input("허용 결함 수", min_value=0, max_value=50, value=int(current.allowed_defects), step=1, key="aud_allowed"))
try:
    preview = audit.required_sample_size(p0_pct / 100, conf_pct / 100, allowed)
    c4.metric("필요한 표본 크기", f"{preview:,}")
except DatagenError as exc:
    preview = None
    c4.error(str(exc))
st.caption(
    f"현재 적용 중: p0 {100 * current.p0:g}%, 신뢰도 {100 * current.confidence:g}%, 허용 결함 {current.allowed_defects}건 → 표본 {current.sample_size}건"
    + (f" (설정: {current.set_by or '이름 없음'}, {fmt_time(current.set_at)})" if current.set_at else " (기본값)")
    + ". 표본 크기는 로트 크기와 무관합니다(유한 모집단 보정 없음, 보수적)."
)
changed = preview is not None and (p0_pct / 100, conf_pct / 100, allowed) != (current.p0, current.confidence, current.allowed_defects)
st.button(
    "감사 기준 저장",
    key="aud_save_params",
    disabled=not (is_publisher and changed),
    help=None if is_publisher else "게시자(publisher) 권한이 필요합니다.",
    on_click=_run,
    args=(audit.set_params,),
    kwargs=dict(p0=p0_pct / 100, confidence=conf_pct / 100, allowed_defects=allowed, actor=me or None, ok="감사 기준을 저장했습니다."),
)

# ----------------------------------------------------------------------------- lots of a job
st.subheader("작업별 로트")
jobs = audit.jobs(db())
if not jobs:
    st.info("학습 샘플이 있는 생성 작업이 아직 없습니다. **생성**과 **배치** 페이지에서 먼저 배치를 가져오세요.")
    st.stop()
job_id = st.selectbox(
    "작업", [j["job_id"] for j in jobs], key="aud_job", format_func=lambda j: next(f"{j} (샘플 {x['samples']}건)" for x in jobs if x["job_id"] == j)
)
plan = audit.plan(db(), job_id)
lanes = triage.lane_counts(db(), job_id=job_id)
st.caption(f"이 작업의 레인: 검사 결과 있음 {lanes['flagged']}건 (사람이 검토), 깨끗함 {lanes['clean']}건, 골드 {lanes['gold']}건")
st.dataframe(
    pd.DataFrame(
        [
            {
                "카테고리": r["category"],
                "검사 결과 있음": r["lanes"]["flagged"],
                "깨끗함": r["lanes"]["clean"],
                "새 로트 크기 (미검토·깨끗함)": r["size"],
                "표본": r["sample_size"],
                "표본 비율": "—" if r["share"] is None else f"{100 * r['share']:.1f}%",
                "상태": (f"로트 #{r['open_lot']} 감사 중" if r["open_lot"] else "전수 검토 (로트가 표본보다 작음)" if r["census"] else "감사 가능"),
            }
            for r in plan
        ]
    ),
    hide_index=True,
)

may_start = bool(me) and (can("annotator") or can("publisher"))
startable = [r for r in plan if not r["open_lot"] and not r["census"] and r["size"] > 0]
if startable:
    row = st.container(horizontal=True)
    for r in startable:
        row.button(
            f"감사 시작: {r['category']} (표본 {r['sample_size']}/{r['size']})",
            key=f"aud_start_{r['category']}",
            disabled=not may_start,
            on_click=_run,
            args=(audit.start, job_id, r["category"]),
            kwargs=dict(actor=me or None, ok="로트 #{result}의 감사 표본을 뽑았습니다. 검토 페이지에서 표본을 검토하세요."),
        )
    if not may_start:
        st.caption("감사를 시작하려면 이름을 입력하세요 (검토자 또는 게시자 권한).")


def _open_in_review(lot_id: int) -> None:
    ss["rev_open_lot"] = lot_id  # read by the Review page before it draws its lot filter
    ss["aud_goto_review"] = True


# ----------------------------------------------------------------------------- lots and their audits
lot_list = audit.lots(db(), job_id)
if lot_list:
    st.subheader("로트와 감사 현황")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "로트": f"#{s.id}",
                    "카테고리": s.category,
                    "상태": triage.LOT_STATE_KO.get(s.state, s.state),
                    "로트 크기": s.size,
                    "표본": s.sample_size,
                    "검토": s.audited,
                    "결함": s.defects,
                    "결함률 상한": f"{100 * s.upper_bound:.2f}%",
                    "p0": f"{100 * s.p0:g}%",
                    "신뢰도": f"{100 * s.confidence:g}%",
                    "판정": audit.VERDICT_KO[s.verdict],
                    "로트로 승인": s.approved,
                    "시작": fmt_time(s.created_at),
                }
                for s in lot_list
            ]
        ),
        hide_index=True,
    )
    for s in lot_list:
        with st.container(border=True):
            st.markdown(
                f"**로트 #{s.id} · {s.category}** — {triage.LOT_STATE_KO.get(s.state, s.state)}, "
                f"표본 {s.audited}/{s.sample_size} 검토, 결함 {s.defects}건, 상한 {100 * s.upper_bound:.2f}% (p0 {100 * s.p0:g}%)"
            )
            if s.state == "auditing":
                st.progress(min(1.0, s.audited / s.sample_size) if s.sample_size else 0.0, text=f"감사 진행 {s.audited}/{s.sample_size}")
            bar = st.container(horizontal=True)
            if s.state == "auditing":
                bar.button("감사 표본 검토 열기", key=f"aud_open_{s.id}", on_click=_open_in_review, args=(s.id,))
                bar.button(
                    "로트 승인",
                    key=f"aud_approve_{s.id}",
                    type="primary",
                    disabled=not (is_publisher and s.bound_holds),
                    help="표본을 모두 검토하고 상한이 p0 이하일 때, 게시자만 승인할 수 있습니다.",
                    on_click=_run,
                    args=(audit.approve, s.id),
                    kwargs=dict(actor=me or None, ok=f"로트 #{s.id}를 승인했습니다: 샘플 {{result}}건이 로트 승인으로 게시 대상이 됩니다."),
                )
            elif s.state == "failed":
                bar.button("전수 검토 열기", key=f"aud_open_{s.id}", on_click=_open_in_review, args=(s.id,))
            elif s.state == "approved":
                bar.button(
                    "승인 철회",
                    key=f"aud_revoke_{s.id}",
                    disabled=not is_publisher,
                    help="로트 승인을 모든 샘플에서 거둡니다 (이력에는 승인과 철회가 모두 남습니다).",
                    on_click=_run,
                    args=(audit.revoke, s.id),
                    kwargs=dict(actor=me or None, ok=f"로트 #{s.id}의 승인을 철회했습니다: 샘플 {{result}}건이 검토 대기열로 돌아갑니다."),
                )
            with st.expander("이력"):
                st.dataframe(
                    pd.DataFrame(
                        [
                            {
                                "시각": fmt_time(e["at"]),
                                "동작": e["action"],
                                "누가": e["actor"] or "(자동)",
                                "메모": e["note"] or "",
                                "수치": ", ".join(f"{k}={v}" for k, v in (e["figures"] or {}).items()),
                            }
                            for e in audit.events(db(), s.id)
                        ]
                    ),
                    hide_index=True,
                )

if ss.pop("aud_goto_review", False):
    st.switch_page("pages/3_Review.py")
