"""Admin: the team's roles (who may review, adjudicate, spend, publish, manage roles)."""

import pandas as pd
import streamlit as st

from datagen import auth
from datagen.ui import backend_banner, db, fmt_time, identity, use_app_navigation, user_errors

use_app_navigation()  # a direct link: app.py's Korean navigation, not the file names
st.set_page_config(page_title="관리", page_icon=":material/admin_panel_settings:", layout="wide")
st.title("권한 관리")
backend_banner()
me = identity()

if auth.open_mode(db()):
    st.warning("아직 아무 권한도 없습니다: 로컬 단일 팀 모드로 누구나 모든 작업을 할 수 있습니다. 첫 권한은 관리자(admin)여야 합니다.")
members = auth.members(db())
if members:
    st.dataframe(pd.DataFrame([{"사용자": m["user"], "권한": ", ".join(auth.ROLE_KO[r] for r in m["roles"])} for m in members]), hide_index=True)

st.subheader("권한 부여 / 회수")
c1, c2 = st.columns(2)
user = c1.text_input("사용자 (로그인 이메일 또는 이름)", key="adm_user")
role = c2.selectbox(
    "권한", auth.ROLES, index=auth.ROLES.index("admin") if auth.open_mode(db()) else 0, format_func=lambda r: f"{auth.ROLE_KO[r]} ({r})", key="adm_role"
)


def _apply(action, verb: str) -> None:
    with user_errors():
        action(db(), user, role, by=me)
        st.success(f"{user}: {auth.ROLE_KO[role]} {verb}")


b1, b2, _ = st.columns([1, 1, 4])
if b1.button("부여", key="adm_grant", disabled=not user.strip()):
    _apply(auth.grant, "부여")
if b2.button("회수", key="adm_revoke", disabled=not user.strip()):
    _apply(auth.revoke, "회수")

with st.expander("변경 이력"):
    log = [{**r, "at": fmt_time(r["at"])} for r in auth.role_log(db(), limit=500)]
    st.dataframe(pd.DataFrame(log, columns=["at", "actor", "action", "user", "role"]), hide_index=True)
