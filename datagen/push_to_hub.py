"""Step 6: publish the accepted records to a Hugging Face Hub dataset repo (private by default).

    python -m datagen.push_to_hub --repo-id your-hf-account/delivery-dataset
    python -m datagen.push_to_hub --input datagen/output/dataset.jsonl --repo-id your-hf-account/delivery-dataset
    python -m datagen.push_to_hub --repo-id me/ds --dry-run     # export locally only

Only records whose latest review is *accept* ship. ``--input`` (seed 001) limits the upload to the
records of that file, still accepted ones only; the rest are counted as left out. The token is read
from ``HF_TOKEN`` and never stored. Without a token or a reachable Hub the local export is kept and
its path printed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .cli import parser, run
from .publish import export_and_record, publish_to_hub
from .store import get_db


def _file_uids(path: Path) -> set[str]:
    """uids of a seed 001 JSONL. Raises ValueError naming file and line for a bad line."""
    uids = set()
    with path.open(encoding="utf-8") as fh:
        for no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                uid = json.loads(line).get("uid")
            except (json.JSONDecodeError, AttributeError):
                raise ValueError(f"{path}:{no}: not a JSON record") from None
            if not uid:
                raise ValueError(f"{path}:{no}: record has no uid")
            uids.add(str(uid))
    return uids


def main(argv: list[str] | None = None) -> int:
    ap = parser("push_to_hub", "Publish accepted records to the Hub (or export them locally).", "python -m datagen.push_to_hub --repo-id me/delivery-dataset --dry-run")
    ap.add_argument("--repo-id", required=True, help="owner/name of the dataset repo")
    ap.add_argument("--input", default=None, help="limit to the records of this dataset.jsonl (accepted ones only)")
    ap.add_argument("--format", default="qwen", choices=["qwen"], help="record format (default qwen: seed 001 records)")
    vis = ap.add_mutually_exclusive_group()
    vis.add_argument("--private", dest="private", action="store_true", default=True, help="create the repo private (default)")
    vis.add_argument("--public", dest="private", action="store_false", help="create the repo public")
    ap.add_argument("--dry-run", action="store_true", help="export locally, push nothing")
    ap.add_argument("--export-dir", default=None, help="local dataset folder (default datagen/output/export)")
    args = ap.parse_args(argv)
    uids = _file_uids(Path(args.input)) if args.input else None
    db = get_db()
    if args.dry_run:
        result = export_and_record(db, args.export_dir, fmt=args.format, operator="cli", uids=uids)
        print(f"dry run: {result['counts']} → {result['path']}")
    else:
        result = publish_to_hub(db, args.repo_id, private=args.private, fmt=args.format, operator="cli", folder=args.export_dir, uids=uids)
        print(f"pushed {result['counts']} to {args.repo_id} at {result['revision']}")
    if uids is not None:
        shipped = sum(result["counts"].values())
        print(f"{len(uids) - shipped} records of {args.input} left out (not accepted)")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
