"""Batches: jobs and their batches with live progress and ETA (st.fragment), retrieve, cancel,
retry failed requests, the yield per category with cost per accepted dialogue and top-up, and judge
jobs (a judge model's verdicts on a generation job's dialogues, the cost shown before submitting)."""

import uuid

import pandas as pd
import streamlit as st

from datagen import batches, jobs, judge, pricing, settings, yields
from datagen.errors import DatagenError
from datagen.ui import backend_banner, can, db, fmt_time, identity, use_app_navigation, user_errors

use_app_navigation()  # a direct link: app.py's Korean navigation, not the file names
st.set_page_config(page_title="배치", page_icon=":material/inventory_2:", layout="wide")
st.title("배치")
backend_banner()
ss = st.session_state
ss.setdefault("bat_seen", {})
operator = identity()
is_pm = can("pm")

STATUS_COLOR = {
    "validating": "gray",
    "in_progress": "blue",
    "finalizing": "blue",
    "completed": "green",
    "failed": "red",
    "expired": "orange",
    "cancelling": "orange",
    "cancelled": "gray",
}


def _progress(row: dict) -> tuple[float, str]:
    c = row["request_counts"] or {}
    total = c.get("total") or 0
    done = (c.get("completed") or 0) + (c.get("failed") or 0)
    return (done / total if total else 0.0), f"{done:,}/{total:,} (실패 {c.get('failed') or 0:,})"


def _eta(row: dict) -> str:
    left = batches.eta_seconds(row)
    if left is None:
        return ""
    return f" · 남은 시간 약 {left / 60:.0f}분" if left >= 90 else f" · 남은 시간 약 {left:.0f}초"


def _retrieve(batch_id: str) -> None:
    try:
        got = batches.retrieve(db(), batch_id, ingest=True)  # parsed while it downloads
        parsed = got["parsed"]
    except DatagenError as exc:
        ss["bat_msg"] = ("error", str(exc))
    else:
        if not got["new_lines"] and not parsed["read"]:
            ss["bat_msg"] = (
                "success",
                f"이미 모두 받아 파싱한 배치입니다 (출력 {got['output_lines']:,}줄, 오류 {got['error_lines']:,}줄): 새로 받은 줄이 없습니다.",
            )
        else:
            ss["bat_msg"] = (
                "success",
                f"출력 {got['output_lines']:,}줄, 오류 {got['error_lines']:,}줄 수신 · 파싱 성공 {parsed['imported']:,}건, 실패 {parsed['failed']:,}건"
                + (f" · 판정 {parsed['judged']:,}건 저장" if parsed.get("judged") else ""),
            )


def _cancel(batch_id: str) -> None:
    try:
        batches.cancel(db(), batch_id, actor=operator)
    except DatagenError as exc:
        ss["bat_msg"] = ("error", str(exc))


def _retry(job_id: str) -> None:
    try:
        row = batches.retry_failed(db(), job_id, actor=operator)
    except DatagenError as exc:
        ss["bat_msg"] = ("error", str(exc))
    else:
        ss["bat_msg"] = ("success", f"재시도 배치 {row['id']} 제출됨" if row else "재시도할 요청이 없습니다.")


def _regenerate(job_id: str, kind: str) -> None:
    seed = int(ss[f"bat_regen_seed_{job_id}"])
    try:
        job = jobs.regenerate_rejected(db(), kind=kind, seed=seed, job_id=job_id, operator=operator, backend=settings.backend_name())
        parts = batches.submit_job(db(), job["id"], actor=operator) if job else []
    except DatagenError as exc:
        ss["bat_msg"] = ("error", f"다시 생성하지 못했습니다: {exc}")
    else:
        ss["bat_msg"] = (
            "success",
            f"반려된 샘플 {job['regenerates']:,}건을 시드 {seed}로 다시 생성: 작업 {job['id']}, 배치 {len(parts)}개 제출됨"
            if job
            else "다시 생성할 반려 샘플이 없습니다.",
        )


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
            except DatagenError as exc:
                st.error(str(exc))
        before = ss["bat_seen"].get(row["id"])
        if before and before not in batches.TERMINAL_STATUSES and row["status"] in batches.TERMINAL_STATUSES:
            st.toast(f"배치 {row['id'][:16]}… {batches.STATUS_KO.get(row['status'])}", icon=":material/inventory_2:")
        ss["bat_seen"][row["id"]] = row["status"]
        with st.container(border=True):
            top = st.columns([3, 2, 2])
            top[0].code(row["id"], language=None)
            top[1].badge(batches.STATUS_KO.get(row["status"], row["status"]), color=STATUS_COLOR.get(row["status"], "gray"))
            top[2].caption(f"{row.get('kind') or ''} · {row.get('job_id') or ''} · 제출 {fmt_time(row['created_at'])}")
            frac, label = _progress(row)
            st.progress(frac, text=label + _eta(row))
            if row.get("errors") and row["status"] == "failed":
                with st.expander(f"오류 {len(row['errors'].get('data') or [])}건", expanded=True):
                    st.dataframe(pd.DataFrame(row["errors"].get("data") or []), hide_index=True)
            b1, b2, _ = st.columns([1, 1, 4])
            if row["status"] in batches.DOWNLOADABLE_STATUSES:
                label = "다시 가져오기" if row.get("retrieved_at") else "결과 가져오기"
                if b1.button(label, key=f"bat_get_{row['id']}", type="secondary" if row.get("retrieved_at") else "primary"):
                    _retrieve(row["id"])
                    st.rerun(scope="app")  # the message, the jobs' retry counts and the yield table are outside this fragment
            if row["status"] in ("validating", "in_progress"):
                if b2.button("취소", key=f"bat_cancel_{row['id']}", disabled=not is_pm):
                    _cancel(row["id"])
                    st.rerun(scope="app")


msg = ss.pop("bat_msg", None)
if msg:
    if msg[0] == "success":
        st.success(msg[1])
    else:
        st.error(msg[1])

st.subheader("배치")
batch_list()

st.subheader("작업")
job_rows = batches.job_summary(db())
if not job_rows:
    st.caption("아직 작업이 없습니다.")
for j in job_rows:
    with st.container(border=True):
        cols = st.columns([3, 3])
        cols[0].code(j["id"], language=None)
        cols[1].write(
            f"{j['kind']} · {j['model']} · 요청 {j['requests']:,}건 · 배치 {j['parts']}개: "
            + ", ".join(batches.STATUS_KO.get(s or "", s or "미제출") for s in j["statuses"])
        )
        if j["regenerates"]:
            st.caption(f"반려된 샘플 {j['regenerates']:,}건을 다시 생성하는 작업입니다.")
        acts = st.columns([2, 1, 2], vertical_alignment="bottom")
        acts[0].button(
            f"실패한 요청 {j['to_retry']:,}건 재시도", key=f"bat_retry_{j['id']}", disabled=not j["to_retry"] or not is_pm, on_click=_retry, args=(j["id"],)
        )
        if j["kind"] == judge.JUDGE_KIND:  # a judge job: verdicts, nothing to regenerate or to compare tokens of
            acts[1].caption("판정 작업")
            continue
        acts[1].number_input(
            "새 시드",
            min_value=0,
            step=1,
            value=jobs.default_regenerate_seed(j["seed"]),
            key=f"bat_regen_seed_{j['id']}",
            help="반려된 샘플을 다시 만들 때 쓸 시드: 처음 작업과 다른 시드여야 다른 주제·페르소나·날짜가 뽑힙니다.",
        )
        acts[2].button(
            f"반려된 샘플 {j['to_regenerate']:,}건 새 시드로 다시 생성",
            key=f"bat_regen_{j['id']}",
            disabled=not j["to_regenerate"] or not is_pm,
            on_click=_regenerate,
            args=(j["id"], j["kind"]),
        )
        report = yields.token_report(db(), j["id"])
        if any(r["actual_input"] for r in report):
            with st.expander("예상 대비 실제 토큰"):
                st.dataframe(
                    pd.DataFrame(report).rename(
                        columns={
                            "category": "카테고리",
                            "est_input": "예상 입력",
                            "actual_input": "실제 입력",
                            "est_output": "예상 출력",
                            "actual_output": "실제 출력",
                        }
                    ),
                    hide_index=True,
                    placeholder="—",
                )

st.subheader("판정 모델 (LLM 심사)")
st.caption(
    "생성 작업의 대화를 판정 모델에 보내 상담사 턴마다 결함 여부·사유·근거 인용을 받습니다. 판정은 검토 화면에 규칙 검사 결과와 나란히 "
    "'판정 모델' 경고로 표시됩니다 (모델의 판정이므로 경고 수준). 이미 같은 모델로 판정한 대화는 빠집니다."
)
ss.setdefault("bat_judge_nonce", uuid.uuid4().hex)
gen_jobs = [j for j in job_rows if j["kind"] != judge.JUDGE_KIND]
if not gen_jobs:
    st.caption("판정할 생성 작업이 없습니다.")
else:
    jc = st.columns([3, 2, 1], vertical_alignment="bottom")
    judged_job = jc[0].selectbox(
        "판정할 생성 작업",
        [j["id"] for j in gen_jobs],
        key="bat_judge_job",
        format_func=lambda i: next(f"{i} ({j['kind']}, 요청 {j['requests']:,}건)" for j in gen_jobs if j["id"] == i),
    )
    model_names = list(pricing.price_table())
    judge_model = jc[1].selectbox(
        "판정 모델", model_names, index=model_names.index(judge.DEFAULT_MODEL) if judge.DEFAULT_MODEL in model_names else 0, key="bat_judge_model"
    )
    rejudge = jc[2].checkbox("다시 판정", key="bat_judge_again", help="이 모델로 이미 판정한 대화도 다시 보냅니다 (예: 수정본 저장 뒤).")
    try:
        est = judge.estimate_for(db(), model=judge_model, job_id=judged_job, rejudge=rejudge)
    except DatagenError as exc:
        st.error(f"비용을 계산하지 못했습니다: {exc}")
        est = None
    if est is not None:
        t = est["total"]
        m = st.columns(4)
        m[0].metric("판정 요청", f"{t['requests']:,}건")
        m[1].metric(f"입력 토큰 (캐시 {t['cached_tokens']:,})", f"{t['input_tokens']:,}")
        m[2].metric("출력 토큰", f"{t['output_tokens']:,}")
        m[3].metric("예상 비용", f"${t['cost_usd']:.4f}")
        st.caption(
            (
                "배치 가격(50% 할인) 기준. 출력 토큰: "
                + ("지난 판정 답변의 평균" if est["output_source"] == "history" else f"답변당 {judge.DEFAULT_OUTPUT_TOKENS} 토큰으로 가정")
            )
            + (f" · 카테고리당 {judge.ESTIMATE_SAMPLE_PER_CATEGORY}건 표본으로 추정" if est.get("sampled") else "")
            + (f" · 이미 판정한 {est['skipped']:,}건 제외" if est["skipped"] else "")
        )
        if est["rows"]:
            st.dataframe(
                pd.DataFrame(est["rows"]).rename(
                    columns={
                        "category": "카테고리",
                        "requests": "요청",
                        "input_tokens": "입력 토큰",
                        "cached_tokens": "캐시 토큰",
                        "output_tokens": "출력 토큰",
                        "cost_usd": "비용 USD",
                    }
                ),
                hide_index=True,
                column_config={"비용 USD": st.column_config.NumberColumn(format="$%.4f")},
            )
        if st.button(f"판정 작업 만들고 제출 (${t['cost_usd']:.4f})", key="bat_judge_submit", type="primary", disabled=not t["requests"] or not is_pm):
            try:
                got = judge.plan(
                    db(),
                    model=judge_model,
                    job_id=judged_job,
                    rejudge=rejudge,
                    operator=operator,
                    backend=settings.backend_name(),
                    idempotency_key=f"judge:{ss['bat_judge_nonce']}",
                )
                parts = batches.submit_job(db(), got["job"]["id"], actor=operator) if got["job"] else []
            except DatagenError as exc:
                st.error(f"판정 작업을 만들지 못했습니다: {exc}")
            else:
                ss["bat_judge_nonce"] = uuid.uuid4().hex
                ss["bat_msg"] = (
                    "success",
                    f"판정 작업 {got['job']['id']}: 요청 {got['n_requests']:,}건, 배치 {len(parts)}개 제출됨" if got["job"] else "판정할 대화가 없습니다.",
                )
                st.rerun()
judge_rows = judge.judge_jobs(db())
if judge_rows:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "판정 작업": j["id"],
                    "모델": j["model"],
                    "대상": j["judges"].get("job_id") or j["judges"].get("kind") or "전체",
                    "요청": j["requests"],
                    "판정": j["verdicts"],
                    "결함": j["defects"],
                    "실패한 줄": j["failed_lines"],
                    "예상 USD": (j["estimate"] or {}).get("total", {}).get("cost_usd"),
                }
                for j in judge_rows
            ]
        ),
        hide_index=True,
        column_config={"예상 USD": st.column_config.NumberColumn(format="$%.4f")},
    )
    st.caption("판정 작업의 배치는 위 '배치' 목록에서 결과를 가져오고, 실패한 요청은 '작업'에서 재시도합니다. 사람의 결정과의 일치도는 분석 페이지에 있습니다.")

st.subheader("수율 (카테고리별)")
table = yields.yield_table(db())
if table:
    df = pd.DataFrame(table).rename(
        columns={
            "kind": "종류",
            "category": "카테고리",
            "requested": "요청",
            "returned": "응답",
            "parsed": "파싱",
            "passed_checks": "검사 통과",
            "accepted": "승인",
            "rejected": "거절",
            "accept_rate": "승인율",
            "yield": "수율",
            "cost_usd": "비용 USD",
            "cost_per_accepted": "승인 1건당 USD",
        }
    )
    st.dataframe(
        df,
        hide_index=True,
        placeholder="—",
        column_config={
            "승인율": st.column_config.NumberColumn(format="percent"),
            "수율": st.column_config.NumberColumn(format="percent"),
            "비용 USD": st.column_config.NumberColumn(format="$%.4f"),
            "승인 1건당 USD": st.column_config.NumberColumn(format="$%.4f"),
        },
    )
    kind = st.radio("보충할 종류", ["train", "gold"], horizontal=True, key="bat_topup_kind")
    targets = {r["category"]: r["requested"] for r in table if r["kind"] == kind}
    reviewed = sum(r["accepted"] + r["rejected"] for r in table if r["kind"] == kind)
    need = yields.top_up_counts(db(), kind, targets) if reviewed else {}
    if not reviewed:  # the yield is unknown until people have decided: no guess from an empty queue
        st.caption(
            "목표 = 처음 요청한 건수만큼 승인. 아직 검토된 샘플이 없어 수율을 모르므로 보충량을 계산하지 않습니다: "
            "먼저 검토하세요 (실패한 요청은 위의 '재시도'로 다시 보냅니다)."
        )
    else:
        st.caption(
            "목표 = 처음 요청한 건수만큼 승인. 관찰된 수율로 필요한 추가 요청 수를 계산합니다: "
            + (", ".join(f"{c} {n}건" for c, n in need.items()) or "모두 목표 달성")
        )
    if st.button("보충 작업 만들고 제출", key="bat_topup", disabled=not need or not is_pm):
        with user_errors("보충 작업을 만들지 못했습니다: "):
            job = batches.top_up(db(), kind=kind, counts=need, jobs_seen=len(job_rows), operator=operator, backend=settings.backend_name())
            st.success(f"보충 작업 {job['id']}: {job['n_requests']:,}건 제출됨")
else:
    st.caption("요청 기록이 없습니다.")
