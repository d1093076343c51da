"""Step 6: publish the records that ship to a Hugging Face Hub dataset repo (private by default).

    python -m datagen.push_to_hub --repo-id your-hf-account/delivery-dataset
    python -m datagen.push_to_hub --repo-id me/ds --format openai --public
    python -m datagen.push_to_hub --input datagen/output/dataset.jsonl --repo-id me/ds
    python -m datagen.push_to_hub --repo-id me/ds --dry-run     # export locally only

What ships is decided by :func:`datagen.publish.shipping_status` (accepted, and not decontaminated,
a non-representative duplicate, or carrying an error finding nobody accepted); what is left out is
printed with its reason, and so is the change since the last publish. ``--input`` (seed 001) limits
the upload to the records of that file. The token is read from ``HF_TOKEN`` and never stored or
printed. When roles are in force (:mod:`datagen.auth`) ``--operator`` (or ``DATAGEN_OPERATOR``) must
be a publisher to push; a dry run needs no role and writes nothing to the database (only the local
folder). Pushing the record set that was last pushed to the
repo again makes no commit. Without a token or a reachable Hub the local folder is kept and its path
printed.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from .auth import cli_operator
from .cli import add_operator, announce_backend, parser, run
from .errors import InputError, MissingFileError
from .publish import FORMATS, LEFT_OUT, Release, check_repo_id, export_local, publish_to_hub
from .store import get_db


def _file_uids(path: Path) -> set[str]:
    """uids of a seed 001 JSONL.

    Raises:
        MissingFileError: no such file.
        InputError: ``<file>:<line>: <reason>`` for a line that is not a JSON record with a uid.
    """
    if not path.is_file():
        raise MissingFileError(f"{path}: 파일이 없습니다")
    uids = set()
    with path.open(encoding="utf-8") as fh:
        for no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                uid = json.loads(line).get("uid")
            except (json.JSONDecodeError, AttributeError):
                raise InputError(f"{path}:{no}: JSON 레코드가 아닙니다") from None
            if not uid:
                raise InputError(f"{path}:{no}: 레코드에 uid가 없습니다")
            uids.add(str(uid))
    return uids


def _summary(release: Release) -> list[str]:
    """Lines: what is left out and why, and the change since the previous publish."""
    lines = []
    left = release.left_out()
    if left or release.missing:
        parts = [f"{r} {n}" for r, n in left.items()] + ([f"not_in_database {len(release.missing)}"] if release.missing else [])
        lines.append("제외: " + ", ".join(parts) + "  (" + "; ".join(f"{r}: {LEFT_OUT[r]}" for r in left) + ")")
    diff = release.diff
    if diff.base is None:
        lines.append(f"변경: 첫 버전, 레코드 {release.total}건")
    else:
        name = diff.base["tag"] or f"게시 #{diff.base['id']}"
        changed = len(diff.changed) if diff.exact else "알 수 없음"
        reasons = Counter(diff.removed_reasons.values())
        why = f" ({', '.join(f'{r} {n}' for r, n in sorted(reasons.items()))})" if reasons else ""
        lines.append(f"{name} 이후 변경: 추가 {len(diff.added)}, 제거 {len(diff.removed)}{why}, 수정 {changed}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = parser(
        "push_to_hub",
        "Publish the records that ship to the Hub (or export them locally).",
        "python -m datagen.push_to_hub --repo-id me/delivery-dataset --dry-run",
    )
    ap.add_argument("--repo-id", required=True, help="owner/name of the dataset repo")
    ap.add_argument("--input", default=None, help="limit to the records of this dataset.jsonl (the rules still apply)")
    ap.add_argument(
        "--format", default="qwen", choices=list(FORMATS), help="qwen: seed 001 records with Qwen tags (default); openai: messages for HF chat templates"
    )
    vis = ap.add_mutually_exclusive_group()
    vis.add_argument("--private", dest="private", action="store_true", default=True, help="create the repo private (default)")
    vis.add_argument("--public", dest="private", action="store_false", help="create the repo public")
    ap.add_argument("--dry-run", action="store_true", help="export locally, push nothing, record nothing in the database")
    add_operator(ap)
    ap.add_argument("--export-dir", default=None, help="local dataset folder (default datagen/output/export; hub pushes: datagen/output/hub/<owner>__<name>)")
    args = ap.parse_args(argv)
    announce_backend()  # every step that reads or makes batch data says which backend is active
    repo_id = check_repo_id(args.repo_id)
    operator = cli_operator(args.operator) or "cli"
    uids = _file_uids(Path(args.input)) if args.input else None
    db = get_db()
    if args.dry_run:
        # a dry run writes the local folder and nothing else: no publishes row (issue 14)
        release = export_local(db, args.export_dir, fmt=args.format, uids=uids, repo_id=repo_id)
        print(
            f"시험 실행: {release.counts} ({args.format}) → {release.path}; 게시하면 {repo_id}의 {release.tag}, "
            f"저장소를 새로 만들 때 {'비공개' if args.private else '공개'}"
        )
    else:
        release = publish_to_hub(db, repo_id, private=args.private, fmt=args.format, operator=operator, folder=args.export_dir, uids=uids)
        if release.skipped:
            print(f"변경 없음: 레코드 집합이 {release.tag} 때와 같습니다 (commit {release.revision}); 올리지 않았습니다")
        else:
            print(f"게시함: {release.counts} ({args.format}) → {repo_id}, commit {release.revision} (태그 {release.tag})")
            if release.tag_error:
                print(f"경고: {release.tag_error}", file=sys.stderr)
            if release.float_drift:
                print(f"참고: 실수 인자가 있는 레코드 {len(release.float_drift)}건은 datasets의 Json 디코더가 마지막 자리를 바꿀 수 있습니다", file=sys.stderr)
    for line in _summary(release):
        print(line)
    if uids is not None:
        print(f"{args.input}의 레코드 중 {len(uids) - release.total}건 제외")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
