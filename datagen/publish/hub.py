"""The Hugging Face Hub: the boundary and pushing a release through it.

:func:`publish_to_hub` pushes the release folder through :class:`HubBoundary` (ARCHITECTURE.md, "Facts": no project
ships a local fake Hub, so tests fake this boundary), skips the upload when the record set equals the
last one pushed to the repo, tags each version ``v{n}`` and records every publish (``publishes``,
``publish_items``; the row hashes are kept in ``publishes.counts`` for the next diff). The token comes
from the caller or ``HF_TOKEN`` and is never stored, logged or written.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Protocol

import sqlite_utils

from .. import auth, settings
from .history import previous_publish
from .release import Release, _record_publish, prepare, write_release
from .rules import PublishError

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")


log = logging.getLogger("datagen.publish")  # the package's name: log lines keep the logger they had before the split


class HubBoundary(Protocol):
    """What publishing needs from the Hub; tests pass a fake."""

    def upload(self, folder: Path, *, repo_id: str, token: str, private: bool, commit_message: str) -> str:
        """Create the dataset repo if needed (``private`` on creation), make the repo's files equal
        the folder's (stale shards removed), return the commit id (revision)."""
        ...

    def tag(self, repo_id: str, *, tag: str, revision: str, token: str, message: str) -> None:
        """Tag ``revision`` of the dataset repo as ``tag``."""
        ...


class HuggingFaceHub:
    """:class:`HubBoundary` over ``huggingface_hub.HfApi`` (create_repo, upload_folder, create_tag).

    ``upload_folder`` deletes remote ``data/*`` files the folder no longer has (a release with fewer
    shards must not leave old ones behind for ``data/{split}-*`` to pick up) and skips the commit when
    nothing changed (the head revision is returned then).
    """

    def upload(self, folder: Path, *, repo_id: str, token: str, private: bool, commit_message: str) -> str:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="dataset", commit_message=commit_message, delete_patterns=["data/*"])
        return getattr(info, "oid", None) or str(info)

    def tag(self, repo_id: str, *, tag: str, revision: str, token: str, message: str) -> None:
        from huggingface_hub import HfApi

        HfApi(token=token).create_tag(repo_id, tag=tag, tag_message=message, revision=revision, repo_type="dataset")


def default_hub() -> HubBoundary:
    """The Hub boundary pages and the CLI use (tests monkeypatch this factory)."""
    return HuggingFaceHub()


def _default_hub() -> HubBoundary:
    """:func:`default_hub` as ``datagen.publish`` exports it, looked up when called: pages, the CLI and
    tests replace that attribute (``monkeypatch.setattr(publish, "default_hub", ...)``)."""
    from datagen import publish

    return publish.default_hub()


def _scrub(exc: BaseException, token: str) -> str:
    """One line naming the error, the token masked."""
    text = str(exc).replace(token, "***") if token else str(exc)
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


def check_repo_id(repo_id: str) -> str:
    """``repo_id`` stripped, if it is ``owner/name`` (letters, digits, ``-``, ``_``, ``.``).

    Raises:
        PublishError: not of that shape.
    """
    repo_id = (repo_id or "").strip()
    if not _REPO_ID.match(repo_id):
        raise PublishError(f"저장소 ID는 'owner/name' 형식이어야 합니다: {repo_id!r}")
    return repo_id


def publish_to_hub(
    db: sqlite_utils.Database,
    repo_id: str,
    *,
    token: str | None = None,
    hub: HubBoundary | None = None,
    private: bool = True,
    fmt: str = "qwen",
    operator: str = "local",
    folder: str | Path | None = None,
    uids: set[str] | None = None,
    release: Release | None = None,
    expect_hash: str | None = None,
) -> Release:
    """Push the records that ship to a Hub dataset repo (private when it is created), tag the
    version ``v{n}`` and record the publish.

    Publishing the record set that was last pushed to the same repo again uploads nothing and
    records nothing: the release comes back with ``skipped=True`` and the earlier publish's
    ``revision``, ``tag`` and ``publish_id``.

    Args:
        repo_id: ``owner/name``.
        token: Hugging Face token; default ``HF_TOKEN`` from the environment. Never stored or logged.
        hub: the Hub boundary (default :func:`default_hub`).
        operator: who publishes (recorded; must hold the ``publisher`` role when roles are in force).
        folder: the local folder written and uploaded (default ``<output dir>/hub/<owner>__<name>``).
        uids: only these samples (``--input``).
        release: a release prepared for this repo (the Publish page pushes what it shows); else one is
            prepared now.
        expect_hash: refuse unless the record set hashes to this (what the person saw).

    Returns:
        the release with ``revision``, ``tag``, ``publish_id``, ``path`` (and ``tag_error`` when the
        commit went through but tagging failed).

    Raises:
        auth.PermissionDenied: roles are in force and ``operator`` is not a publisher.
        PublishError: bad repo id, unknown format, nothing ships, the record set is not the one
            expected, no token, or the Hub refused / could not be reached (the local folder is kept
            and its path given in the message).
    """
    auth.require(db, operator, "publisher")
    repo_id = check_repo_id(repo_id)
    if release is None:
        release = prepare(db, fmt=fmt, repo_id=repo_id, uids=uids)
    elif release.repo_id != repo_id:
        raise PublishError(f"준비된 게시본은 {release.repo_id or '로컬 내보내기'}용입니다: {repo_id}에 올리려면 다시 준비하세요.")
    if expect_hash and release.record_hash != expect_hash:
        raise PublishError("게시 대상이 바뀌었습니다 (그사이 검토 결과가 달라졌습니다). 화면을 다시 확인한 뒤 게시하세요.")
    last = previous_publish(db, repo_id)
    if last and last["record_hash"] == release.record_hash:
        release.skipped, release.revision, release.tag, release.publish_id = True, last["revision"], last["tag"], last["id"]
        log.info("publish %s: the record set %s was pushed last (%s): no new commit", repo_id, release.record_hash[:12], last["tag"])
        return release
    token = token or settings.hf_token()
    folder = Path(folder or settings.output_dir() / "hub" / repo_id.replace("/", "__"))
    write_release(db, release, folder)
    if not token:
        raise PublishError(f"HF_TOKEN이 설정되지 않아 허브에 올리지 못했습니다. 로컬 내보내기는 {folder}에 있습니다.")
    hub = hub or _default_hub()
    message = f"datagen {release.tag}: {release.total} records ({release.fmt}), set {release.record_hash[:12]}"
    try:
        revision = hub.upload(folder, repo_id=repo_id, token=token, private=private, commit_message=message)
    except Exception as exc:  # the Hub client raises many types (HTTP, connection, auth)
        raise PublishError(f"허브에 올리지 못했습니다 ({_scrub(exc, token)}). 로컬 내보내기는 {folder}에 있습니다.") from None
    release.revision = revision
    assert release.tag is not None  # prepare(..., repo_id=...) names the next version's tag
    try:
        hub.tag(repo_id, tag=release.tag, revision=revision, token=token, message=message)
    except Exception as exc:  # the commit exists: record it, say the tag is missing
        release.tag_error = f"태그 {release.tag}를 만들지 못했습니다 ({_scrub(exc, token)})."
        log.warning("publish %s: commit %s made, tag %s failed: %s", repo_id, revision, release.tag, _scrub(exc, token))
    log.info("publish %s: %d records (%s) as %s, commit %s", repo_id, release.total, release.fmt, release.tag, revision)
    release.publish_id = _record_publish(db, release, target="hub", revision=revision, operator=operator)
    return release
