"""Who may do what: roles kept in the database, checked in the library (not only by hiding buttons).

Roles (issue "Team use"):

    annotator    review: accept / reject / skip / edit
    adjudicator  resolve disputed gold samples
    pm           edit the scenario mix; create, submit, cancel and retry batches (spends money)
    publisher    push to the Hub (publishes data)
    admin        grant and revoke roles; implies every other role

Modes: while no role has been granted at all, the studio runs in the local single-team mode
(anyone may do anything; the UI says so). The first grant must make an admin (or the table is
seeded from a TOML file, :func:`seed_from_toml`); from then on every guarded action needs the role.
Every grant and revoke is an appended ``role_log`` row.

Identities are exact strings (issue 14: ``"boss "`` with a trailing space acted as ``boss`` while
being recorded as another name). A name with leading or trailing whitespace, a control or
invisible format character (NUL, newline, zero-width space…), a lone surrogate, or not in Unicode
NFC is refused everywhere (:func:`check_identity`): the role checks, grant and revoke, every review
decision, the CLI's ``--operator`` / ``DATAGEN_OPERATOR``. Nothing is stripped silently in the
library; the app's sidebar name box trims what is typed before it becomes a name.
"""

from __future__ import annotations

import os
import tomllib
import unicodedata
from pathlib import Path

import sqlite_utils

from .errors import DatagenError, InputError
from .store import now, write_transaction

ROLES = ("annotator", "adjudicator", "pm", "publisher", "admin")
ROLE_KO = {"annotator": "검토자", "adjudicator": "조정자", "pm": "PM", "publisher": "게시자", "admin": "관리자"}


class PermissionDenied(DatagenError, PermissionError):
    """The actor lacks the role an action needs; ``str(err)`` names both (Korean, shown to users)."""


class IdentityError(InputError):
    """A name that cannot be an identity; ``str(err)`` says why (Korean). Also a ``ValueError``."""


MAX_IDENTITY_LENGTH = 200


def check_identity(name: str, *, what: str = "이름") -> str:
    """Return ``name`` unchanged if it is a valid identity, else raise.

    Valid: a non-empty string of at most :data:`MAX_IDENTITY_LENGTH` characters, without leading or
    trailing whitespace, without control (Unicode Cc), format (Cf: zero-width space, direction
    marks…) or surrogate (Cs) characters, in NFC (so 한 typed as one syllable or as three jamo is
    not two people). Inner spaces are allowed ("Kim Minji").

    Raises:
        IdentityError: the reason, naming the value with ``repr``.
    """
    if not isinstance(name, str) or not name:
        raise IdentityError(f"{what}이(가) 비어 있습니다")
    problem = None
    if name != name.strip():
        problem = "앞뒤에 공백이 있습니다"
    elif len(name) > MAX_IDENTITY_LENGTH:
        problem = f"{MAX_IDENTITY_LENGTH}자를 넘습니다"
    else:
        bad = next((ch for ch in name if unicodedata.category(ch) in ("Cc", "Cf", "Cs")), None)
        if bad is not None:
            problem = f"보이지 않는 문자 U+{ord(bad):04X}가 있습니다 (제어·서식·서로게이트 문자)"
        elif not unicodedata.is_normalized("NFC", name):
            problem = "유니코드 NFC 형식이 아닙니다"
    if problem:
        raise IdentityError(f"{what} {name!r}: {problem}; 이름은 정확히 일치해야 합니다")
    return name


def cli_operator(explicit: str | None = None) -> str | None:
    """The CLI's acting identity: ``--operator`` or ``DATAGEN_OPERATOR`` (None when neither is set).

    Raises:
        IdentityError: the name given is not a valid identity (:func:`check_identity`): ``"boss "``
            is refused, not taken as ``boss``.
    """
    if explicit:
        return check_identity(explicit, what="--operator")
    env = os.environ.get("DATAGEN_OPERATOR")
    return check_identity(env, what="DATAGEN_OPERATOR") if env else None


def open_mode(db: sqlite_utils.Database) -> bool:
    """True while no role is granted (local single-team mode: nothing is guarded)."""
    return db.execute("SELECT COUNT(*) FROM roles").fetchone()[0] == 0


def roles_of(db: sqlite_utils.Database, user: str | None) -> set[str]:
    """The roles of a user (admin implies all); every role in open mode."""
    if open_mode(db):
        return set(ROLES)
    if not user:
        return set()
    try:
        check_identity(user)
    except IdentityError:
        return set()  # not a name anyone was granted (names are exact)
    got = {r[0] for r in db.execute("SELECT role FROM roles WHERE user = ?", [user])}
    return set(ROLES) if "admin" in got else got


def require(db: sqlite_utils.Database, user: str | None, role: str) -> None:
    """Raise unless ``user`` holds ``role`` (or admin), or the studio is in open mode.

    Raises:
        PermissionDenied: the user lacks the role, or no user was given while roles are in force.
        IdentityError: ``user`` is given but not a valid identity (:func:`check_identity`), also in
            open mode: what is recorded under that name must be one person's.
        InputError: unknown role.
    """
    if role not in ROLES:
        raise InputError(f"알 수 없는 권한 {role!r} (가능한 값: {', '.join(ROLES)})")
    if user:
        check_identity(user)
    if role in roles_of(db, user):
        return
    who = user or "(이름 없음)"
    raise PermissionDenied(f"{who}: '{ROLE_KO[role]}'({role}) 권한이 필요합니다.")


def grant(db: sqlite_utils.Database, user: str, role: str, *, by: str | None) -> None:
    """Give ``user`` a role. The first grant of all must be an admin (bootstrap, by anyone).

    Raises:
        PermissionDenied: ``by`` is not an admin (outside the bootstrap).
        InputError: unknown role, blank user, or a first grant that is not admin.
        IdentityError: ``user`` or ``by`` is not a valid identity.
    """
    if not user or role not in ROLES:
        raise InputError(f"권한을 주려면 사용자와 권한({', '.join(ROLES)} 중 하나)이 필요합니다")
    check_identity(user)
    if by:
        check_identity(by)
    if open_mode(db):
        if role != "admin":
            raise InputError("첫 권한은 관리자(admin)여야 합니다 (그렇지 않으면 아무도 권한을 관리할 수 없습니다)")
    else:
        require(db, by, "admin")
    with write_transaction(db):
        db.execute("INSERT OR IGNORE INTO roles (user, role, granted_by, granted_at) VALUES (?, ?, ?, ?)", [user, role, by or "", now()])
        db.execute("INSERT INTO role_log (user, role, action, actor, at) VALUES (?, ?, 'grant', ?, ?)", [user, role, by or "", now()])


def revoke(db: sqlite_utils.Database, user: str, role: str, *, by: str | None) -> None:
    """Take a role away. The last admin cannot be removed.

    Raises:
        PermissionDenied: ``by`` is not an admin.
        IdentityError: ``user`` or ``by`` is not a valid identity (a revoke of ``"boss "`` used to
            log a revoke and leave ``boss``'s role in place).
        InputError: it would remove the last admin.
    """
    check_identity(user)
    require(db, by, "admin")
    if role == "admin" and db.execute("SELECT COUNT(*) FROM roles WHERE role = 'admin' AND user != ?", [user]).fetchone()[0] == 0:
        raise InputError("마지막 관리자(admin)의 권한은 회수할 수 없습니다")
    with write_transaction(db):
        db.execute("DELETE FROM roles WHERE user = ? AND role = ?", [user, role])
        db.execute("INSERT INTO role_log (user, role, action, actor, at) VALUES (?, ?, 'revoke', ?, ?)", [user, role, by or "", now()])


def members(db: sqlite_utils.Database) -> list[dict]:
    """``[{"user", "roles": [..]}]`` sorted by user."""
    out: dict[str, list[str]] = {}
    for user, role in db.execute("SELECT user, role FROM roles ORDER BY user, role"):
        out.setdefault(user, []).append(role)
    return [{"user": u, "roles": r} for u, r in out.items()]


def role_log(db: sqlite_utils.Database, *, limit: int = 500) -> list[dict]:
    """The newest ``limit`` grants and revokes, newest first: ``[{"at", "actor", "action", "user", "role"}]``
    (``action``: ``grant`` / ``revoke``; ``at``: ISO-8601 UTC)."""
    return list(db.query("SELECT at, actor, action, user, role FROM role_log ORDER BY id DESC LIMIT ?", [int(limit)]))


def seed_from_toml(db: sqlite_utils.Database, path: str | Path) -> int:
    """Grant the roles listed in a TOML file (``[roles]`` table: ``admin = ["a@x.com"]``, …) when no
    role exists yet; returns how many grants were made (0 when roles already exist).

    Raises:
        InputError: ``<file>: <reason>`` for unreadable TOML, an unknown role, no admin, or a
            name that is not a valid identity.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8")).get("roles", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: 권한 파일을 읽을 수 없습니다 ({exc})") from None
    unknown = set(data) - set(ROLES)
    if unknown:
        raise InputError(f"{path}: 알 수 없는 권한 {', '.join(sorted(unknown))}")
    if not data.get("admin"):
        raise InputError(f"{path}: 관리자(admin)가 적어도 한 명 있어야 합니다")
    for users in data.values():
        for user in users:
            try:
                check_identity(user)
            except IdentityError as exc:
                raise InputError(f"{path}: 권한 파일의 {exc}") from None
    if not open_mode(db):
        return 0
    n = 0
    with write_transaction(db):
        for role in ROLES:
            for user in data.get(role, []):
                db.execute("INSERT OR IGNORE INTO roles (user, role, granted_by, granted_at) VALUES (?, ?, ?, ?)", [user, role, f"seed:{path.name}", now()])
                db.execute("INSERT INTO role_log (user, role, action, actor, at) VALUES (?, ?, 'grant', ?, ?)", [user, role, f"seed:{path.name}", now()])
                n += 1
    return n
