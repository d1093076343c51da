"""Publish: exactly what will ship, what is left out and why, the change since the last publish,
the dataset card as it will be pushed; then one button (Hub) or a local export."""

import pandas as pd
import streamlit as st

from datagen import publish
from datagen.ui import backend_banner, can, db, fmt_time, hf_token, identity, use_app_navigation, user_errors

use_app_navigation()  # a direct link: app.py's Korean navigation, not the file names
st.set_page_config(page_title="게시", page_icon=":material/publish:", layout="wide")
st.title("게시")
backend_banner()
st.caption("승인되고 제외 규칙에 걸리지 않은 레코드만 게시됩니다. 아래 내용과 카드가 게시되는 그대로입니다.")
operator = identity()

REASON_ROWS = {**publish.LEFT_OUT, "not_selected": "선택 밖", "deleted": "데이터베이스에서 삭제됨"}
shown_hash = st.session_state.get("pub_shown_hash")  # the record set on screen before this run


c1, c2, c3 = st.columns([3, 2, 1])
repo_input = c1.text_input("허브 저장소 ID (owner/name)", key="pub_repo", placeholder="your-hf-account/delivery-dataset")
fmt = c2.selectbox("형식", publish.FORMATS, format_func=publish.FORMAT_KO.get, key="pub_format")
private = c3.checkbox("비공개로 만들기", value=True, key="pub_private", help="저장소를 처음 만들 때 적용됩니다.")
repo_id = ""
if repo_input.strip():
    try:
        repo_id = publish.check_repo_id(repo_input)
    except publish.PublishError as exc:
        st.error(str(exc))

try:
    release = publish.prepare(db(), fmt=fmt, repo_id=repo_id)
except publish.PublishError as exc:
    release = None
    st.info(str(exc))

# ----------------------------------------------------------------------------- what ships
st.subheader("게시될 레코드")
if release:
    cols = st.columns(4)
    cols[0].metric("train", release.counts.get("train", 0))
    cols[1].metric("test (gold)", release.counts.get("test", 0))
    cols[2].metric("검토자 수정본", release.edited)
    cols[3].metric("버전", release.tag or "로컬")
    per = pd.DataFrame([{"split": s, "category": c, "건수": n} for (s, c), n in sorted(release.categories.items())])
    st.dataframe(per, hide_index=True, key="pub_per_category")
    offline = publish.offline_rows(db(), release)
    if offline:
        st.warning(f"{offline}건은 오프라인 배치 백엔드가 만든 스크립트 예시입니다 (LLM 출력 아님). 카드에도 그렇게 적힙니다.")
    with st.expander("레코드 미리보기 (split별 처음 20건)"):
        preview = pd.DataFrame(release.preview).rename(
            columns={"turns": "턴", "tool_calls": "도구 호출", "edited": "수정본", "first_user_turn": "첫 고객 발화"}
        )
        st.dataframe(preview, hide_index=True, key="pub_preview")

# ----------------------------------------------------------------------------- what is left out
st.subheader("제외된 레코드와 이유")
status = release.status if release else publish.shipping_status(db())
left = [(uid, s) for uid, s in status.items() if s != publish.SHIPS]
if left:
    counts = pd.Series([s for _, s in left]).value_counts()
    st.dataframe(
        pd.DataFrame([{"이유": publish.LEFT_OUT[r], "규칙": r, "건수": int(counts[r])} for r in publish.LEFT_OUT if r in counts]),
        hide_index=True,
        key="pub_left_out",
    )
    with st.expander(f"제외된 레코드 목록 ({len(left)}건, 처음 1,000건)"):
        st.dataframe(pd.DataFrame([{"uid": u, "이유": publish.LEFT_OUT[s]} for u, s in left[:1000]]), hide_index=True)
else:
    st.caption("제외된 레코드가 없습니다.")

# ----------------------------------------------------------------------------- difference from the last publish
if release:
    st.subheader("지난 게시와의 차이")
    diff = release.diff
    if diff.base is None:
        st.caption("이 대상의 첫 게시입니다: 모든 레코드가 추가됩니다." if repo_id else "이전 게시가 없습니다: 모든 레코드가 추가됩니다.")
    else:
        base = diff.base
        name = base["tag"] or f"게시 #{base['id']}"
        where = base["repo_id"] or "로컬 내보내기"
        st.caption(
            f"비교 대상: {name} · {where} · {fmt_time(base['created_at'])} · 레코드 {base['total']}건"
            + (f" · commit {base['revision'][:12]}" if base.get("revision") else "")
        )
        cols = st.columns(3)
        cols[0].metric("추가", len(diff.added))
        cols[1].metric("제거", len(diff.removed))
        cols[2].metric("변경", len(diff.changed) if diff.exact else "알 수 없음")
        if base["format"] != release.fmt:
            st.warning(f"형식이 바뀝니다: {base['format']} → {release.fmt} (모든 레코드가 변경됨으로 셉니다).")
        changes = (
            [{"uid": u, "변화": "추가", "이유": ""} for u in diff.added]
            + [{"uid": u, "변화": "제거", "이유": REASON_ROWS.get(diff.removed_reasons.get(u, ""), "")} for u in diff.removed]
            + [{"uid": u, "변화": "변경", "이유": "검토자 수정 등으로 내용이 바뀜"} for u in diff.changed]
        )
        if changes:
            with st.expander(f"바뀐 레코드 ({len(changes)}건, 처음 1,000건)"):
                st.dataframe(pd.DataFrame(changes[:1000]), hide_index=True, key="pub_changes")

# ----------------------------------------------------------------------------- the card and the button
if release:
    with st.expander("데이터셋 카드 (README.md, 게시되는 그대로)"):
        st.code(release.card, language="markdown")

token = hf_token()
st.caption("HF_TOKEN: " + ("설정됨 (값은 저장하거나 표시하지 않습니다)" if token else "없음 — 허브에 올리지 못하고 로컬 폴더만 만듭니다"))
may_publish = can("publisher")
if not may_publish:
    st.caption("허브 게시는 '게시자' 권한이 있어야 합니다 (관리 페이지에서 부여).")
b1, b2 = st.columns(2)
why_not = (
    "HF_TOKEN이 없습니다: 환경 변수나 Streamlit secrets에 넣은 뒤 다시 여세요 (그동안은 로컬로 내보내기)."
    if not token
    else "게시할 레코드가 없습니다."
    if not release
    else "허브 저장소 ID (owner/name)를 입력하세요."
    if not repo_id
    else "'게시자' 권한이 필요합니다."
    if not may_publish
    else None
)
push = b1.button("허브에 게시", type="primary", key="pub_push", disabled=why_not is not None, width="stretch", help=why_not)
export = b2.button("로컬로 내보내기", key="pub_export", disabled=not release, width="stretch")
if push and release:
    with user_errors():
        with st.spinner("게시하는 중…"):
            done = publish.publish_to_hub(
                db(),
                repo_id,
                token=token,
                hub=publish.default_hub(),
                private=private,
                fmt=fmt,
                operator=operator or "app",
                release=release,
                expect_hash=shown_hash,
            )
        if done.skipped:
            st.info(f"지난 게시({done.tag or '이전 버전'}, commit {(done.revision or '')[:12]})와 같은 레코드 집합이라 새 커밋을 만들지 않았습니다.")
        else:
            st.success(f"{repo_id}에 {done.tag}로 게시했습니다: " + ", ".join(f"{s} {n}건" for s, n in done.counts.items()) + f" · commit {done.revision}")
            if done.tag_error:
                st.warning(done.tag_error)
            if done.float_drift:
                st.warning(f"{len(done.float_drift)}건의 실수 인자는 datasets의 Json 디코더가 마지막 자리를 바꿀 수 있습니다 (카드 참고).")
if export and release:
    with user_errors():
        with st.spinner("내보내는 중…"):
            done = publish.export_and_record(db(), operator=operator or "app", release=release)
        st.success(", ".join(f"{s} {n}건" for s, n in done.counts.items()) + f" → {done.path} (datasets.load_dataset로 읽을 수 있습니다)")
        st.caption(
            "같은 이름의 폴더를 다시 내보낸 뒤 읽을 때는 load_dataset(폴더, cache_dir=새 폴더)처럼 캐시를 따로 주세요: "
            "datasets가 폴더 이름으로 캐시해 이전 내용을 돌려줄 수 있습니다."
        )

# ----------------------------------------------------------------------------- history
history = publish.publish_history(db())
if history:
    st.subheader("게시 기록")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "#": h["id"],
                    "대상": h["target"],
                    "저장소": h["repo_id"] or "—",
                    "태그": h["tag"] or "—",
                    "commit": (h["revision"] or "")[:12] or "—",
                    "형식": h["format"],
                    "레코드": h["total"],
                    "게시자": h["operator"],
                    "시각": fmt_time(h["created_at"]),
                }
                for h in history
            ]
        ),
        hide_index=True,
        key="pub_history",
    )

st.session_state["pub_shown_hash"] = release.record_hash if release else None
