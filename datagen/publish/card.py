"""The dataset card (the release's README.md).

The figures of each section are computed here from the database and the release; the card's layout
and wording live in the Jinja2 template ``templates/card.md.j2``.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

import sqlite_utils

from .. import audit, config, quality
from ..checks import CHECKS
from ..store import loads
from .history import publish_history
from .rules import LEFT_OUT

if TYPE_CHECKING:
    from .release import Release

LICENSE = "other"
"""Card license: the records are model output under the generator provider's terms; the publisher
decides the final license (``other`` until then)."""


def _size_category(n: int) -> str:
    """Hugging Face ``size_categories`` bucket for ``n`` records."""
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "1M<n<10M"


def _pct(a: float, b: float) -> str:
    return f"{100 * a / b:.1f}%" if b else "-"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join("" if v is None else str(v).replace("|", "\\|").replace("\n", " ") for v in r) + " |" for r in rows]
    return out


def offline_rows(db: sqlite_utils.Database, release: Release) -> int:
    """Shipped rows whose job ran on the offline batch backend (scripted examples, not LLM output)."""
    job_ids = [j for j in release.jobs if j]
    if not job_ids:
        return 0
    offline = {j for (j,) in db.execute(
        f"SELECT id FROM jobs WHERE backend = 'offline' AND id IN ({','.join('?' * len(job_ids))})", job_ids)}
    return sum(n for j, n in release.jobs.items() if j in offline)


def _generator_section(db: sqlite_utils.Database, release: Release) -> list[str]:
    job_ids = [j for j in release.jobs if j]
    jobs = {}
    if job_ids:
        jobs = {r["id"]: r for r in db.query(f"SELECT * FROM jobs WHERE id IN ({','.join('?' * len(job_ids))})", job_ids)}
    lines = ["## 생성", "", "- 생성 모델: " + ", ".join(f"`{m}` ({n})" for m, n in sorted(release.models.items(), key=lambda kv: (-kv[1], kv[0])))]
    rows = []
    for job_id, n in sorted(release.jobs.items(), key=lambda kv: (kv[0] is None, kv[0] or "")):
        j = jobs.get(job_id) or {}
        params = loads(j.get("params"), {}) or {}
        rows.append([job_id or "(가져온 데이터)", j.get("kind"), j.get("model"), j.get("temperature"), j.get("seed"),
                     j.get("backend"), params.get("tools_version"), (j.get("created_at") or "")[:10], n])
    lines += ["- 도구 명세 버전(현재): " + str(config.TOOLS_VERSION), ""]
    lines += _table(["job", "kind", "model", "temperature", "seed", "backend", "tools_version", "생성일", "레코드"], rows)
    offline = offline_rows(db, release)
    if offline:
        lines += ["", f"> ⚠️ {offline}건은 오프라인 배치 백엔드가 만든 스크립트 예시입니다. LLM 출력이 아닙니다."]
    return lines + [""]


def _review_section(db: sqlite_utils.Database) -> list[str]:
    from .. import review

    n_annotators, n_decisions = db.execute(
        "SELECT COUNT(DISTINCT annotator), COUNT(*) FROM reviews WHERE decision IN ('accept', 'reject', 'skip')"
    ).fetchone()
    per = db.execute(
        "SELECT category, SUM(decision = 'accept'), SUM(decision = 'reject') FROM sample_state WHERE state = 'decided' "
        "GROUP BY category ORDER BY category"
    ).fetchall()
    acc = sum(a or 0 for _, a, _ in per)
    rej = sum(r or 0 for _, _, r in per)
    lines = ["## 검토", "",
             f"- 검토자 {n_annotators}명, 결정 {n_decisions}건 (되돌리기 반영 전 전체 기록)",
             f"- 확정: 승인 {acc}, 거절 {rej} → 승인율 {_pct(acc, acc + rej)}",
             f"- 골드(test) 샘플은 서로 다른 검토자 {review.GOLD_REQUIRED_VOTES}명의 일치하는 판정이 필요하며, 불일치는 조정자가 결정합니다.", ""]
    lines += _table(["category", "승인", "거절", "승인율"], [[c, a or 0, r or 0, _pct(a or 0, (a or 0) + (r or 0))] for c, a, r in per])
    agreement = review.agreement(db)
    lines += ["", "검토자 간 일치도 (골드, 첫 두 검토자, Cohen's κ):", ""]
    if agreement:
        lines += _table(["category", "쌍", "일치율 %", "κ"], [[a["category"], a["pairs"], a["percent"], a["kappa"]] for a in agreement])
    else:
        lines.append("- 두 명이 판정한 골드 샘플이 아직 없습니다.")
    return lines + [""]


def _checks_section(db: sqlite_utils.Database) -> list[str]:
    checked = db.execute(
        "SELECT COUNT(*) FROM sample_state WHERE checked_at IS NOT NULL OR uid IN (SELECT uid FROM findings)"
    ).fetchone()[0]
    lines = ["## 자동 검사", ""]
    if not checked:
        return lines + ["- 자동 검사 기록이 없습니다.", ""]
    clean = checked - db.execute("SELECT COUNT(DISTINCT uid) FROM findings WHERE severity = 'error'").fetchone()[0]
    titles = {k: v.title for k, v in CHECKS.items()} | {quality.JUDGE_CHECK: f"{quality.JUDGE_TITLE} (경고: 모델의 판정)"}
    per = db.execute("SELECT check_id, severity, COUNT(DISTINCT uid) FROM findings GROUP BY 1, 2 ORDER BY 2, 1").fetchall()
    lines += [f"- 검사한 샘플 {checked}건 중 오류 없는 샘플 {clean}건 ({_pct(clean, checked)})",
              "- 오류 수준 결과가 있는 샘플은 그 결과를 본 사람이 승인한 경우에만 게시됩니다.", ""]
    lines += _table(["check", "설명", "수준", "걸린 샘플", "통과율"],
                    [[c, titles.get(c, ""), s, n, _pct(checked - n, checked)] for c, s, n in per])
    return lines + [""]


def _decontamination_section(db: sqlite_utils.Database, release: Release) -> list[str]:
    lines = ["## 평가셋 오염 제거 (decontamination)", ""]
    lines.append(f"- 방법: 학습 샘플마다 골드(test) 항목의 사용자 턴 토큰 중 공유 n-gram으로 덮이는 비율을 계산 "
                 f"(Tülu 3 규칙: 단어 {quality.NGRAM_WORDS}-gram, 한국어 변형: 글자 {quality.NGRAM_CHARS}-gram); "
                 f"> {quality.EXCLUDE_ABOVE} 이면 제외, > {quality.FLAG_ABOVE} 이면 사람 확인 표시.")
    rows = db.execute(
        "SELECT method, band, COUNT(DISTINCT uid), COUNT(DISTINCT gold_uid) FROM contamination GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    if not rows:
        lines.append("- 결과: 저장된 겹침이 없습니다 (검사 전이거나 겹침 없음).")
    else:
        lines += [""] + _table(["method", "구간", "학습 샘플", "골드 항목"], [list(r) for r in rows])
    lines += ["", f"- 이번 게시에서 오염으로 제외된 승인 레코드: {release.left_out().get('decontaminated', 0)}건", ""]
    return lines


def _changelog_section(db: sqlite_utils.Database, release: Release) -> list[str]:
    diff = release.diff
    lines = ["## 변경 기록", ""]
    name = release.tag or "이번 내보내기"
    if diff.base is None:
        lines.append(f"- {name}: 첫 버전, 레코드 {release.total}건.")
    else:
        base = diff.base
        label = base["tag"] or f"게시 #{base['id']} ({base['target']})"
        reasons = Counter(diff.removed_reasons.values())
        why = ", ".join(f"{LEFT_OUT.get(r, {'not_selected': '선택 밖', 'deleted': '삭제됨'}.get(r, r))} {n}" for r, n in sorted(reasons.items()))
        changed = f"{len(diff.changed)}" if diff.exact else "알 수 없음 (이전 게시에 레코드별 해시 없음)"
        lines.append(f"- {name} ({label} 대비, {base['created_at'][:10]}, 레코드 {base['total']}건): "
                     f"추가 {len(diff.added)}, 제거 {len(diff.removed)}" + (f" ({why})" if why else "") + f", 변경 {changed}.")
        if base["format"] != release.fmt:
            lines.append(f"- 형식이 바뀌었습니다: {base['format']} → {release.fmt}.")
    history = publish_history(db, release.repo_id) if release.repo_id else []
    if history:
        lines += ["", "이전 버전:", ""]
        lines += _table(["tag", "날짜", "commit", "형식", "레코드", "레코드 집합 해시"],
                        [[h["tag"], (h["created_at"] or "")[:10], (h["revision"] or "")[:12], h["format"], h["total"], (h["record_hash"] or "")[:12]] for h in history])
    return lines + [""]


_USAGE = {
    "qwen": [
        "각 레코드는 seed 001 형식입니다: `uid`, `dates`, `system_prompt`, `messages`(`role`, `content`), "
        "`tools`(JSON 문자열). assistant의 도구 호출은 Qwen `<tool_call>` 태그, 도구 결과는 `<tool_response>` "
        "태그만 담은 user 턴입니다. 계보 열: `category`, `kind`, `custom_id`, `source`, `job_id`, `model`.",
        "",
        "```python",
        "import json",
        "from datasets import load_dataset",
        "",
        "ds = load_dataset(REPO_ID)",
        "row = ds[\"train\"][0]",
        "tools = json.loads(row[\"tools\"])",
        "```",
    ],
    "openai": [
        "각 레코드의 `messages`는 Hugging Face 채팅 템플릿이 받는 형태입니다: system 메시지가 맨 앞, assistant의 "
        "`tool_calls[].function.arguments`는 dict, 도구 결과는 role `tool`(`tool_call_id`, `name`). `tools`는 "
        "도구 명세(dict) 목록입니다. 계보 열: `dates`, `category`, `kind`, `custom_id`, `source`, `job_id`, `model`.",
        "",
        "```python",
        "from datasets import load_dataset",
        "from transformers import AutoTokenizer",
        "",
        "ds = load_dataset(REPO_ID)",
        "tok = AutoTokenizer.from_pretrained(\"Qwen/Qwen2.5-7B-Instruct\")",
        "row = ds[\"train\"][0]",
        "text = tok.apply_chat_template(row[\"messages\"], tools=row[\"tools\"], tokenize=False)",
        "```",
        "",
        "`arguments`와 `tools`는 `datasets.Json` 열입니다. `datasets`는 이 열을 pandas ujson으로 디코딩하므로 "
        "일부 실수 값의 마지막 자리가 달라질 수 있습니다(예: 0.6 → 0.6000000000000001). 정확한 값이 필요하면 "
        "`ds.with_format(\"arrow\")`로 JSON 원문을 읽으세요.",
    ],
}


def dataset_card(db: sqlite_utils.Database, release: Release) -> str:
    """The README.md of a release: YAML front matter (language ko, license, task categories, size
    category, ``configs`` with one ``data_files`` entry per split) and a Korean body: version and
    counts per split and category, generator models and job settings, review statistics
    (annotators, accept rate, gold agreement), check pass rates, decontamination method and result,
    what was left out and why, the change log since the previous version, the format and how to load it;
    how many rows a person approved and how many an audited lot did, with each lot's audit figures
    (:func:`datagen.audit.card_section`).

    Deterministic for a given database state and release (no clock reads), so the card shown on
    the Publish page is byte for byte the card pushed.
    """
    title = release.repo_id or "배달 앱 함수 호출 대화 데이터셋"
    yaml = ["---", "language:", "- ko", f"license: {LICENSE}", f"pretty_name: {json.dumps(title, ensure_ascii=False)}",
            "task_categories:", "- text-generation", "tags:", "- function-calling", "- tool-use", "- synthetic", "- korean",
            "size_categories:", f"- {_size_category(release.total)}", "configs:", "- config_name: default", "  data_files:"]
    for split in release.splits:
        yaml += [f"  - split: {split}", f"    path: data/{split}-*"]
    yaml.append("---")
    counts = ", ".join(f"{s} {n}" for s, n in release.counts.items())
    body = [
        "", f"# {title}", "",
        "배달 앱 상담 에이전트를 위한 한국어 멀티턴 함수 호출(function calling) 대화입니다. 생성 후 자동 검사와 "
        "사람의 검토를 거쳐 **승인(accept)된 레코드만** 담았습니다. `train`은 학습용, `test`는 평가용 골드 세트입니다.",
        "",
        f"- 버전: {release.tag or '로컬 내보내기'}",
        f"- 형식: `{release.fmt}`",
        f"- 레코드: {release.total} ({counts})",
        f"- 검토자가 수정한 레코드: {release.edited}건 (수정본으로 게시)",
        f"- 레코드 집합 해시 (sha256): `{release.record_hash}`",
        "",
        "## 카테고리별 개수", "",
        *_table(["split", "category", "count"], [[s, c, n] for (s, c), n in sorted(release.categories.items())]),
        "",
        *_generator_section(db, release),
        *_review_section(db),
        *audit.card_section(db, {uid for us in release.splits.values() for uid in us}),
        *_checks_section(db),
        *_decontamination_section(db, release),
        "## 제외된 레코드", "",
    ]
    left = release.left_out()
    body += _table(["이유", "건수"], [[f"{LEFT_OUT[r]} (`{r}`)", n] for r, n in left.items()]) if left else ["- 없음"]
    body += ["", *_changelog_section(db, release), "## 형식과 사용법", ""]
    body += [line.replace("REPO_ID", json.dumps(release.repo_id or "path/to/folder")) for line in _USAGE[release.fmt]]
    return "\n".join(yaml + body).strip()  # no trailing newline: the page's st.code shows it byte for byte
