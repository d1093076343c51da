"""The entrypoint (``streamlit run app.py``): the navigation in Korean — 홈, 생성, 배치, 검토, 게시,
감사, 분석, 관리 — over the page files in ``pages/`` (``st.navigation``; the URL paths stay ``/Generate``,
``/Review``, …), and the home page: which backend is active, and the funnel per category
(requested → … → published)."""

import os

import pandas as pd
import streamlit as st

from datagen import auth, review, settings, stats
from datagen.ui import backend_banner, db, identity, user_errors

# (file, title, material icon, url path): the sidebar reads 홈, 생성, 배치, 검토, 게시, 감사, 분석, 관리.
PAGES = [
    ("pages/1_Generate.py", "생성", ":material/add_circle:", "Generate"),
    ("pages/2_Batches.py", "배치", ":material/inventory_2:", "Batches"),
    ("pages/3_Review.py", "검토", ":material/rate_review:", "Review"),
    ("pages/4_Publish.py", "게시", ":material/publish:", "Publish"),
    ("pages/7_Audit.py", "감사", ":material/fact_check:", "Audit"),
    ("pages/5_Analytics.py", "분석", ":material/bar_chart:", "Analytics"),
    ("pages/6_Admin.py", "관리", ":material/admin_panel_settings:", "Admin"),
]


def home() -> None:
    """The home page: backend, funnel per kind and category, agreement and review speed."""
    st.title("배달 앱 대화 데이터 스튜디오")
    st.caption("함수 호출 대화 생성 → 배치 → 검토 → 게시")
    backend_banner()
    identity()

    STATE_KO = {
        "requested": "요청",
        "returned": "응답 수신",
        "parsed": "파싱 성공",
        "failed": "파싱 실패",
        "accepted": "승인",
        "rejected": "거절",
        "skipped": "건너뜀",
        "pending": "미검토",
        "published": "게시됨",
    }

    funnel = stats.funnel(db())
    rows = [{"종류": kind, "카테고리": cat, **{STATE_KO[s]: n for s, n in states.items()}} for kind, cats in funnel.items() for cat, states in cats.items()]

    st.subheader("카테고리별 진행 현황")
    if not rows:
        st.info("아직 데이터가 없습니다. **생성** 페이지에서 배치를 만들거나 `python -m datagen.import_file`로 가져오세요.")
    else:
        total = stats.totals(funnel)
        cols = st.columns(6)
        for col, key in zip(cols, ("requested", "returned", "parsed", "failed", "accepted", "published")):
            col.metric(STATE_KO[key], f"{total[key]:,}")
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

    st.subheader("검토자 일치도 (골드, 카테고리별)")
    agreement = review.agreement(db())
    if agreement:
        st.dataframe(
            pd.DataFrame(
                [
                    {"카테고리": a["category"], "쌍": a["pairs"], "일치율 %": a["percent"], "Cohen's κ": "—" if a["kappa"] is None else f"{a['kappa']:.3f}"}
                    for a in agreement
                ]
            ),
            hide_index=True,
        )
        if any(a["kappa"] is None for a in agreement):
            st.caption("κ가 —인 곳: 쌍이 2개 미만이거나 두 검토자가 모두 한 가지로만 결정해 우연 일치율이 1이라 정의되지 않습니다.")
    else:
        st.caption("두 명 이상이 검토한 골드 샘플이 아직 없습니다.")

    st.subheader("검토 속도")
    speed = review.review_speed(db())
    if speed:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "검토자": r["annotator"],
                        "결정 수": r["decisions"],
                        "활동 시간(분)": r["active_minutes"],
                        "시간당 결정": "—" if r["per_hour"] is None else f"{r['per_hour']:.1f}",
                        "결정당 중앙값(초)": "—" if r["median_seconds"] is None else f"{r['median_seconds']:.1f}",
                    }
                    for r in speed
                ]
            ),
            hide_index=True,
        )
        st.caption(f"활동 시간 = 결정 사이 간격의 합 (한 간격은 최대 {review.IDLE_SECONDS // 60}분: 더 긴 쉼은 세지 않습니다). 1분 미만이면 시간당 결정은 —.")
    else:
        st.caption("아직 결정이 없습니다.")

    with st.expander("설정"):
        st.text(f"데이터베이스: {settings.db_path()}\n출력 폴더: {settings.output_dir()}\n배치 백엔드: {settings.backend_name()}")


st.set_page_config(page_title="대화 데이터 스튜디오", page_icon=":material/delivery_dining:", layout="wide")
_roles_file = os.environ.get("DATAGEN_ROLES_FILE", ".streamlit/roles.toml")
if os.path.exists(_roles_file) and auth.open_mode(db()):
    with user_errors("권한 파일을 적용하지 못했습니다: "):  # a broken file is said on every page, not a crash
        auth.seed_from_toml(db(), _roles_file)  # first start: the team's roles from the TOML file
st.navigation(
    [st.Page(home, title="홈", icon=":material/home:", default=True)]
    + [st.Page(path, title=title, icon=icon, url_path=url) for path, title, icon, url in PAGES]
).run()
