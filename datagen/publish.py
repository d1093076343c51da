"""Publishing: only accepted records, as a dataset folder (parquet + card), locally or to the Hub.

What ships: every sample whose latest review is ``accept`` (the edited version when the reviewer
edited it); ``train`` samples form the ``train`` split and ``gold`` samples the ``test`` split.
The folder written by :func:`export_local` is exactly what :func:`publish_to_hub` uploads, and it
loads with ``datasets.load_dataset(folder)``.

The Hub is behind :class:`HubBoundary` (DESIGN.md, facts: no project ships a local fake Hub, so
tests fake this boundary). The token comes from ``HF_TOKEN`` (or the caller) and is never stored.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Iterator, Protocol

import sqlite_utils

from . import config, settings
from .dialogue import Dialogue, to_seed_record
from .store import dumps, now

SPLIT_OF_KIND = {"train": "train", "gold": "test"}
FORMATS = ("qwen",)


class PublishError(RuntimeError):
    """Publishing cannot proceed; ``str(err)`` is a one-line reason (Korean, shown to users)."""


def accepted_dialogues(db: sqlite_utils.Database, uids: set[str] | None = None) -> Iterator[Dialogue]:
    """Dialogues whose decision is ``accept`` (see :mod:`datagen.review` for gold's two votes),
    only those in ``uids`` when given; the revision accepted where a reviewer edited the sample."""
    for uid, text, edited in db.execute(
        "SELECT s.uid, s.dialogue, r.dialogue FROM sample_state st JOIN samples s ON s.uid = st.uid "
        "LEFT JOIN revisions r ON r.id = st.accepted_revision_id "
        "WHERE st.state = 'decided' AND st.decision = 'accept' ORDER BY st.kind, st.category, st.seq"
    ):
        if uids is None or uid in uids:
            yield Dialogue.model_validate_json(edited or text)


def to_row(d: Dialogue, fmt: str = "qwen") -> dict:
    """One dataset row: seed 001's record (``messages`` with Qwen tags) plus lineage columns.

    ``tools`` is a JSON string: tool specs differ per tool, and Arrow would otherwise merge every
    parameter of every tool into one struct, adding null keys on the way back.

    Raises:
        PublishError: unknown format.
    """
    if fmt not in FORMATS:
        raise PublishError(f"알 수 없는 형식: {fmt} (가능: {', '.join(FORMATS)})")
    rec = to_seed_record(d)
    return {
        "uid": rec["uid"],
        "dates": rec["dates"],
        "system_prompt": rec["system_prompt"],
        "messages": rec["messages"],
        "tools": json.dumps(rec["tools"], ensure_ascii=False),
        "category": d.category,
        "kind": d.kind,
        "custom_id": d.custom_id or "",
        "source": d.source,
        "model": d.model or "",
    }


def plan(db: sqlite_utils.Database, fmt: str = "qwen", uids: set[str] | None = None) -> dict[str, list[dict]]:
    """Rows per split that would ship now: ``{"train": [...], "test": [...]}`` (empty splits omitted).

    ``uids`` restricts the set further (``push_to_hub --input``): still accepted records only.
    """
    splits: dict[str, list[dict]] = {}
    for d in accepted_dialogues(db, uids):
        splits.setdefault(SPLIT_OF_KIND[d.kind], []).append(to_row(d, fmt))
    return splits


def record_hash(splits: dict[str, list[dict]]) -> str:
    """SHA-256 over the shipped rows (split, uid, content), independent of row order."""
    items = sorted(
        (split, r["uid"], hashlib.sha256(json.dumps(r, ensure_ascii=False, sort_keys=True).encode()).hexdigest())
        for split, rows in splits.items()
        for r in rows
    )
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()


def _size_category(n: int) -> str:
    """Hugging Face ``size_categories`` bucket for ``n`` records."""
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "1M<n<10M"


def dataset_card(db: sqlite_utils.Database, splits: dict[str, list[dict]], *, repo_id: str = "") -> str:
    """The README.md dataset card: YAML (configs, splits, language, license, task, size) and a body
    with counts per split and category, generator models and review statistics."""
    total = sum(len(r) for r in splits.values())
    yaml_lines = [
        "---",
        "language:",
        "- ko",
        "license: other",
        "task_categories:",
        "- text-generation",
        "tags:",
        "- function-calling",
        "- tool-use",
        "- synthetic",
        "size_categories:",
        f"- {_size_category(total)}",
        "configs:",
        "- config_name: default",
        "  data_files:",
    ]
    for split in splits:
        yaml_lines += [f"  - split: {split}", f"    path: data/{split}-*.parquet"]
    yaml_lines.append("---")
    per = Counter((split, r["category"]) for split, rows in splits.items() for r in rows)
    models = Counter(r["model"] or "unknown" for rows in splits.values() for r in rows)
    reviews = db.execute(
        "SELECT (SELECT COUNT(DISTINCT annotator) FROM reviews), COUNT(*), SUM(decision = 'accept'), "
        "SUM(decision = 'reject') FROM sample_state WHERE state = 'decided'"
    ).fetchone()
    body = [
        "",
        f"# {repo_id or '배달 앱 함수 호출 대화 데이터셋'}",
        "",
        "배달 앱 상담 에이전트를 위한 한국어 멀티턴 함수 호출(function calling) 대화입니다. "
        "생성 후 사람이 검토하여 **승인(accept)된 레코드만** 포함합니다.",
        "",
        f"- 레코드 수: {total} ({', '.join(f'{s}: {len(r)}' for s, r in splits.items())})",
        f"- 생성 모델: {', '.join(f'{m} ({n})' for m, n in models.most_common())}",
        f"- 도구 명세 버전: {config.TOOLS_VERSION}",
        f"- 검토: 검토자 {reviews[0] or 0}명, 결정 {reviews[1] or 0}건 (승인 {reviews[2] or 0}, 거절 {reviews[3] or 0})",
        "",
        "## 카테고리별 개수",
        "",
        "| split | category | count |",
        "|---|---|---|",
        *[f"| {s} | {c} | {n} |" for (s, c), n in sorted(per.items())],
        "",
        "## 형식",
        "",
        "각 레코드는 `uid`, `dates`, `system_prompt`, `messages`, `tools`(JSON 문자열)와 계보 열 "
        "(`category`, `kind`, `custom_id`, `source`, `model`)을 가집니다. `messages`의 assistant 도구 호출은 "
        "Qwen 형식 `<tool_call>` 태그, 도구 결과는 `<tool_response>` 태그를 담은 user 턴입니다.",
        "",
        "`train`은 학습용, `test`는 평가용 골드 세트입니다.",
        "",
    ]
    return "\n".join(yaml_lines + body)


def export_local(
    db: sqlite_utils.Database,
    folder: str | Path | None = None,
    *,
    fmt: str = "qwen",
    repo_id: str = "",
    uids: set[str] | None = None,
) -> dict:
    """Write the dataset folder (``data/<split>-00000-of-00001.parquet`` + ``README.md``).

    Args:
        folder: target folder, replaced if it exists (default ``<output dir>/export``).

    Returns:
        ``{"path", "counts": {split: n}, "record_hash", "card"}``.

    Raises:
        PublishError: no accepted record to ship.
    """
    import datasets

    folder = Path(folder or settings.output_dir() / "export")
    splits = plan(db, fmt, uids)
    if not splits:
        raise PublishError("승인된 레코드가 없습니다: 검토 화면에서 먼저 승인하세요.")
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "data").mkdir(parents=True)
    for split, rows in splits.items():
        datasets.Dataset.from_list(rows).to_parquet(str(folder / "data" / f"{split}-00000-of-00001.parquet"))
    card = dataset_card(db, splits, repo_id=repo_id)
    (folder / "README.md").write_text(card, encoding="utf-8")
    return {
        "path": str(folder),
        "counts": {s: len(r) for s, r in splits.items()},
        "record_hash": record_hash(splits),
        "card": card,
        "uids": {s: [r["uid"] for r in rows] for s, rows in splits.items()},
    }


class HubBoundary(Protocol):
    """What publishing needs from the Hub; tests pass a fake."""

    def upload(self, folder: Path, *, repo_id: str, token: str, private: bool, commit_message: str) -> str:
        """Create the dataset repo if needed, upload the folder, return the commit id (revision)."""
        ...


class HuggingFaceHub:
    """:class:`HubBoundary` over ``huggingface_hub.HfApi`` (create_repo + upload_folder).

    ``upload_folder`` skips a commit when no file changed, so the same record set twice makes no
    new commit (the current head revision is returned instead).
    """

    def upload(self, folder: Path, *, repo_id: str, token: str, private: bool, commit_message: str) -> str:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="dataset", commit_message=commit_message)
        return getattr(info, "oid", None) or str(info)


def _record_publish(db, *, target: str, repo_id: str, revision: str, result: dict, fmt: str, operator: str) -> int:
    with db.conn:
        pid = db["publishes"].insert(
            {
                "target": target,
                "repo_id": repo_id,
                "revision": revision,
                "record_hash": result["record_hash"],
                "format": fmt,
                "counts": dumps(result["counts"]),
                "card": result["card"],
                "path": result["path"],
                "created_at": now(),
                "operator": operator,
            }
        ).last_pk
        db["publish_items"].insert_all(
            ({"publish_id": pid, "uid": uid, "split": split} for split, uids in result["uids"].items() for uid in uids),
            batch_size=1000,
        )
    return pid


def export_and_record(
    db: sqlite_utils.Database,
    folder: str | Path | None = None,
    *,
    fmt: str = "qwen",
    operator: str = "local",
    uids: set[str] | None = None,
) -> dict:
    """:func:`export_local` and record it as a ``local`` publish; returns the export summary."""
    result = export_local(db, folder, fmt=fmt, uids=uids)
    result["publish_id"] = _record_publish(db, target="local", repo_id="", revision="", result=result, fmt=fmt, operator=operator)
    return result


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
) -> dict:
    """Export the accepted records and push that folder to a Hub dataset repo (private by default).

    Args:
        repo_id: ``owner/name``.
        token: Hugging Face token; default ``HF_TOKEN`` from the environment. Never stored.
        hub: the Hub boundary (default :class:`HuggingFaceHub`).

    Returns:
        the export summary plus ``"revision"`` and ``"publish_id"``.

    Raises:
        PublishError: bad repo id, no token, nothing accepted, or the Hub refused / could not be
            reached (the local export is kept and its path given in the message).
    """
    if not repo_id or repo_id.count("/") != 1 or any(not p.strip() for p in repo_id.split("/")):
        raise PublishError(f"저장소 ID는 'owner/name' 형식이어야 합니다: {repo_id!r}")
    token = token or os.environ.get("HF_TOKEN")
    result = export_local(db, folder, fmt=fmt, repo_id=repo_id, uids=uids)
    if not token:
        raise PublishError(f"HF_TOKEN이 설정되지 않아 허브에 올리지 못했습니다. 로컬 내보내기는 {result['path']}에 있습니다.")
    hub = hub or HuggingFaceHub()
    try:
        revision = hub.upload(
            Path(result["path"]),
            repo_id=repo_id,
            token=token,
            private=private,
            commit_message=f"datagen publish {result['record_hash'][:12]}",
        )
    except Exception as exc:  # the Hub client raises many types (HTTP, connection, auth)
        msg = str(exc).replace(token, "***").splitlines()[0] if str(exc) else type(exc).__name__
        raise PublishError(
            f"허브에 올리지 못했습니다 ({type(exc).__name__}: {msg[:200]}). 로컬 내보내기는 {result['path']}에 있습니다."
        ) from None
    result["revision"] = revision
    result["publish_id"] = _record_publish(db, target="hub", repo_id=repo_id, revision=revision, result=result, fmt=fmt, operator=operator)
    return result
