"""The offline batch backend: an httpx2 transport that emulates OpenAI's Files and Batches endpoints.

ARCHITECTURE.md, "Batch backends": without ``OPENAI_API_KEY`` (or with ``DATAGEN_BACKEND=offline``) the
real ``openai`` client is given ``httpx2.Client(transport=OfflineTransport(...))``. State lives on
disk under ``<output dir>/offline_backend/`` (``files/<id>.jsonl`` + ``.json`` metadata,
``batches/<id>.json``), so a batch submitted from the CLI can be watched from the app.

Behaviour, modelled on the OpenAI Batch API (ARCHITECTURE.md, "Facts"):

- input validation: every line JSON with ``custom_id`` (unique), ``method`` POST and ``url`` equal to
  the batch endpoint, at most 50,000 lines; otherwise the batch is ``failed`` with ``errors.data``.
- progress: ``validating`` for ``validate_s`` seconds, then ``in_progress`` with
  ``request_counts.completed`` growing by one every ``seconds_per_request``; then ``finalizing`` →
  ``completed`` with an output file (and an error file when a line failed).
- output lines come in a shuffled order (order is not guaranteed by the real API); a share
  ``error_rate`` are HTTP 500 / 400 errors (``response.status_code`` ≠ 200, ``error: null``), a share
  ``truncation_rate`` stop at ``finish_reason: "length"`` with cut JSON; the rest are scripted Korean
  dialogues from :mod:`datagen.offline_dialogues`, ``defect_rate`` of them with a realistic defect;
  judge requests (custom_id ``judge:…``) get scripted verdicts that know the planted defect and are
  wrong at the ``judge_*`` rates (:func:`datagen.judge.offline_answer`).
- cancel: ``cancelling`` then ``cancelled``; finished lines are delivered, the rest are error-file
  lines with ``response: null`` and ``error.code = "batch_cancelled"``. ``expire_after_s`` makes a batch
  ``expired`` the same way (``batch_expired``).

Everything is deterministic per custom_id. These dialogues are not LLM output: the UI says so.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import os
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from .errors import InputError

MAX_REQUESTS_PER_FILE = 50_000  # OpenAI Batch API limit (ARCHITECTURE.md, "Facts")

_SCENARIO_RE = re.compile(r"```json\n(.*?)\n```", re.S)
_lock = threading.Lock()


@dataclass
class OfflineOptions:
    """Knobs of the offline backend; :meth:`from_env` reads ``DATAGEN_OFFLINE_*`` variables.

    Attributes:
        validate_s: seconds a batch stays ``validating``.
        seconds_per_request: simulated processing time per request (seconds).
        defect_rate: share of dialogues given a realistic defect (0–1).
        error_rate: share of lines answered with an HTTP error (0–1).
        truncation_rate: share of lines cut at ``finish_reason: "length"`` (0–1).
        expire_after_s: seconds after which an unfinished batch expires (``None``: never).
        faults: injected failures, each ``{"method": "POST", "path": "/files", "status": 429 | 500 |
            "timeout", "times": 1, "after": false}``: the next ``times`` matching requests fail with that
            status (or a read timeout); with ``"after": true`` the request is carried out first and
            only the answer is lost (the case where a retry could create a duplicate). ``path`` is
            matched as a prefix after ``/v1``, e.g. ``/files``, ``/batches``, ``/files/`` (content).
            ``DATAGEN_OFFLINE_FAULTS`` takes the list as JSON.
        judge_miss_rate / judge_false_flag_rate / judge_wrong_reason_rate: how often the scripted
            judge (:func:`datagen.judge.offline_answer`) misses a planted defect, flags a clean
            dialogue, and names the wrong reason for a defect it caught (0–1 each; the defaults,
            20% / 5% / 10%, are this project's choice: wrong often enough that agreement figures
            are not trivially perfect).
    """

    validate_s: float = 1.0
    seconds_per_request: float = 0.02
    defect_rate: float = 0.15
    error_rate: float = 0.02
    truncation_rate: float = 0.02
    expire_after_s: float | None = None
    faults: list[dict] = field(default_factory=list)
    judge_miss_rate: float = 0.2
    judge_false_flag_rate: float = 0.05
    judge_wrong_reason_rate: float = 0.1

    @classmethod
    def from_env(cls) -> OfflineOptions:
        """Options from ``DATAGEN_OFFLINE_VALIDATE_S``, ``_SECONDS_PER_REQUEST``, ``_DEFECT_RATE``,
        ``_ERROR_RATE``, ``_TRUNCATION_RATE``, ``_EXPIRE_AFTER_S``, ``_JUDGE_MISS_RATE``,
        ``_JUDGE_FALSE_FLAG_RATE`` and ``_JUDGE_WRONG_REASON_RATE``.

        Raises:
            InputError: a variable is not a number (``DATAGEN_OFFLINE_FAULTS``: not a JSON list).
        """
        opts = cls()
        raw_faults = os.environ.get("DATAGEN_OFFLINE_FAULTS")
        if raw_faults:
            try:
                opts.faults = list(json.loads(raw_faults))
            except (ValueError, TypeError):
                raise InputError(f"DATAGEN_OFFLINE_FAULTS가 JSON 목록이 아닙니다: {raw_faults[:80]!r}") from None
        for name in (
            "validate_s",
            "seconds_per_request",
            "defect_rate",
            "error_rate",
            "truncation_rate",
            "expire_after_s",
            "judge_miss_rate",
            "judge_false_flag_rate",
            "judge_wrong_reason_rate",
        ):
            raw = os.environ.get(f"DATAGEN_OFFLINE_{name.upper()}")
            if raw not in (None, ""):
                try:
                    setattr(opts, name, float(raw))
                except ValueError:
                    raise InputError(f"DATAGEN_OFFLINE_{name.upper()}={raw!r}은(는) 숫자가 아닙니다") from None
        return opts


def _unit(custom_id: str, salt: str) -> float:
    """A deterministic number in [0, 1) for a custom_id and a purpose."""
    digest = hashlib.sha256(f"{salt}:{custom_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def scenario_from_request(body: dict) -> dict | None:
    """The scenario dict the prompt ends with (the last fenced ``json`` block of the last user message)."""
    for m in reversed(body.get("messages") or []):
        if m.get("role") == "user" and isinstance(m.get("content"), str):
            blocks = _SCENARIO_RE.findall(m["content"])
            if blocks:
                try:
                    return json.loads(blocks[-1])
                except json.JSONDecodeError:
                    return None
            return None
    return None


def _approx_tokens(text: str) -> int:
    """A cheap token estimate for simulated usage (≈ 1 token per 2 characters of Korean-heavy text)."""
    return max(1, len(text) // 2)


def complete_request(custom_id: str, body: dict, opts: OfflineOptions) -> dict:
    """One batch output line for one request line: success, HTTP error, or truncated answer. A
    success is a scripted dialogue, or for a judge request (custom_id ``judge:…``) a scripted
    verdict (:func:`datagen.judge.offline_answer`); errors and truncation hit both alike."""
    from .offline_dialogues import choose_defect, scripted_dialogue

    req_id = "req_" + hashlib.sha256(custom_id.encode()).hexdigest()[:24]
    line_id = "batch_req_" + hashlib.sha256(("line" + custom_id).encode()).hexdigest()[:24]
    model = body.get("model") or "offline"
    u = _unit(custom_id, "fault")
    if u < opts.error_rate:
        code = 500 if u < opts.error_rate / 2 else 400
        err = {
            "error": {
                "message": "The server had an error processing your request." if code == 500 else "Invalid request: simulated 400 from the offline backend.",
                "type": "server_error" if code == 500 else "invalid_request_error",
                "param": None,
                "code": None,
            }
        }
        return {"id": line_id, "custom_id": custom_id, "response": {"status_code": code, "request_id": req_id, "body": err}, "error": None}
    if custom_id.startswith("judge:"):  # a judge request (datagen.judge): a scripted verdict, wrong at stated rates
        from .judge import offline_answer

        content = json.dumps(
            offline_answer(
                custom_id,
                body,
                defect_rate=opts.defect_rate,
                miss_rate=opts.judge_miss_rate,
                false_flag_rate=opts.judge_false_flag_rate,
                wrong_reason_rate=opts.judge_wrong_reason_rate,
            ),
            ensure_ascii=False,
        )
    else:
        scenario = scenario_from_request(body) or {"custom_id": custom_id, "category": custom_id.split("-")[1] if custom_id.count("-") >= 2 else "search"}
        scenario.setdefault("custom_id", custom_id)
        defect = choose_defect(custom_id, opts.defect_rate)
        content = json.dumps(scripted_dialogue(scenario, defect), ensure_ascii=False)
    finish = "stop"
    if u < opts.error_rate + opts.truncation_rate:
        content = content[: max(20, int(len(content) * 0.6))]
        finish = "length"
    prompt_text = "".join(m.get("content") or "" for m in body.get("messages") or [])
    prompt_tokens = _approx_tokens(prompt_text)
    completion_tokens = _approx_tokens(content)
    resp_body = {
        "id": "chatcmpl-" + req_id[4:],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0},
        },
        "system_fingerprint": "offline",
    }
    return {"id": line_id, "custom_id": custom_id, "response": {"status_code": 200, "request_id": req_id, "body": resp_body}, "error": None}


class OfflineTransport(httpx2.MockTransport):
    """httpx2 transport serving ``/v1/files`` and ``/v1/batches`` from a folder.

    Args:
        state_dir: folder for files and batch state (created if missing).
        options: :class:`OfflineOptions` (default: from the environment).
        clock: time source in seconds (tests pass a fake clock to jump ahead).
    """

    def __init__(self, state_dir: str | Path, options: OfflineOptions | None = None, clock=time.time):
        self.state_dir = Path(state_dir)
        (self.state_dir / "files").mkdir(parents=True, exist_ok=True)
        (self.state_dir / "batches").mkdir(parents=True, exist_ok=True)
        self.options = options or OfflineOptions.from_env()
        self.clock = clock
        super().__init__(self.handle)

    # -- plumbing -------------------------------------------------------------------------------
    def _json(self, status: int, obj: dict) -> httpx2.Response:
        return httpx2.Response(status, json=obj)

    def _not_found(self, what: str) -> httpx2.Response:
        return self._json(404, {"error": {"message": f"No such {what}", "type": "invalid_request_error", "param": None, "code": None}})

    def _file_meta_path(self, file_id: str) -> Path:
        return self.state_dir / "files" / f"{file_id}.json"

    def _file_data_path(self, file_id: str) -> Path:
        return self.state_dir / "files" / f"{file_id}.jsonl"

    def _batch_path(self, batch_id: str) -> Path:
        return self.state_dir / "batches" / f"{batch_id}.json"

    def _save_file(self, data: bytes, filename: str, purpose: str) -> dict:
        file_id = "file-" + uuid.uuid4().hex[:24]
        self._file_data_path(file_id).write_bytes(data)
        meta = {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": int(self.clock()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }
        self._file_meta_path(file_id).write_text(json.dumps(meta))
        return meta

    def _load_batch(self, batch_id: str) -> dict | None:
        p = self._batch_path(batch_id)
        return json.loads(p.read_text()) if p.exists() else None

    def _store_batch(self, batch: dict) -> None:
        tmp = self._batch_path(batch["id"]).with_suffix(".tmp")
        tmp.write_text(json.dumps(batch, ensure_ascii=False))
        tmp.replace(self._batch_path(batch["id"]))

    # -- routing --------------------------------------------------------------------------------
    def handle(self, request: httpx2.Request) -> httpx2.Response:
        """Route one request; unknown paths answer 404 like the real API."""
        path = request.url.path
        path = path[path.index("/v1") + 3 :] if "/v1" in path else path
        fault = self._take_fault(request.method, path)
        if fault and not fault.get("after"):
            return self._fail(fault)
        response = self._route(request, path)
        if fault:
            return self._fail(fault)
        return response

    def _take_fault(self, method: str, path: str) -> dict | None:
        """The first injected fault matching this request with uses left (its count is decremented)."""
        for f in self.options.faults:
            if f.get("times", 1) > 0 and f.get("method", method) == method and path.startswith(f.get("path", "")):
                f["times"] = f.get("times", 1) - 1
                return f
        return None

    def _fail(self, fault: dict) -> httpx2.Response:
        if fault.get("status") == "timeout":
            raise httpx2.ReadTimeout("offline backend: injected timeout")
        status = int(fault.get("status", 500))
        return self._json(status, {"error": {"message": f"offline backend: injected HTTP {status}", "type": "server_error", "param": None, "code": None}})

    def _route(self, request: httpx2.Request, path: str) -> httpx2.Response:
        parts = [p for p in path.split("/") if p]
        with _lock:
            if parts == ["files"] and request.method == "POST":
                return self._upload(request)
            if len(parts) >= 2 and parts[0] == "files":
                return self._file(request, parts)
            if parts == ["batches"] and request.method == "POST":
                return self._create_batch(json.loads(request.content or b"{}"))
            if parts == ["batches"] and request.method == "GET":
                return self._list_batches(request)
            if len(parts) == 2 and parts[0] == "batches" and request.method == "GET":
                batch = self._load_batch(parts[1])
                return self._json(200, self._advance(batch)) if batch else self._not_found("batch")
            if len(parts) == 3 and parts[0] == "batches" and parts[2] == "cancel" and request.method == "POST":
                return self._cancel(parts[1])
        return self._not_found(f"endpoint {request.method} {request.url.path}")

    def _upload(self, request: httpx2.Request) -> httpx2.Response:
        ctype = request.headers.get("content-type", "")
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + request.read())
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""  # bytes: a form field's part is not multipart
            if isinstance(name, str) and isinstance(payload, bytes):  # only named fields are read below
                fields[name] = (part.get_filename(), payload)
        if "file" not in fields:
            return self._json(400, {"error": {"message": "file is required", "type": "invalid_request_error", "param": "file", "code": None}})
        filename, data = fields["file"]
        purpose = fields.get("purpose", (None, b"batch"))[1].decode()
        return self._json(200, self._save_file(data, filename or "upload.jsonl", purpose))

    def _file(self, request: httpx2.Request, parts: list[str]) -> httpx2.Response:
        file_id = parts[1]
        meta_p = self._file_meta_path(file_id)
        if not meta_p.exists():
            return self._not_found("file")
        if len(parts) == 3 and parts[2] == "content" and request.method == "GET":
            return httpx2.Response(200, content=self._file_data_path(file_id).read_bytes(), headers={"content-type": "application/octet-stream"})
        if len(parts) == 2 and request.method == "DELETE":
            meta_p.unlink()
            self._file_data_path(file_id).unlink(missing_ok=True)
            return self._json(200, {"id": file_id, "object": "file", "deleted": True})
        return self._json(200, json.loads(meta_p.read_text()))

    def _list_batches(self, request: httpx2.Request) -> httpx2.Response:
        batches = [json.loads(p.read_text()) for p in (self.state_dir / "batches").glob("*.json")]
        batches = [self._advance(b) for b in sorted(batches, key=lambda b: b["created_at"], reverse=True)]
        limit = int(request.url.params.get("limit", 20))
        after = request.url.params.get("after")
        if after:
            ids = [b["id"] for b in batches]
            batches = batches[ids.index(after) + 1 :] if after in ids else []
        page = batches[:limit]
        return self._json(
            200,
            {
                "object": "list",
                "data": page,
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
                "has_more": len(batches) > limit,
            },
        )

    # -- batches --------------------------------------------------------------------------------
    def _create_batch(self, params: dict) -> httpx2.Response:
        input_file_id = params.get("input_file_id")
        endpoint = params.get("endpoint")
        if not input_file_id or not self._file_meta_path(input_file_id).exists():
            return self._json(
                400, {"error": {"message": f"Invalid input_file_id: {input_file_id}", "type": "invalid_request_error", "param": "input_file_id", "code": None}}
            )
        if params.get("completion_window") != "24h":
            return self._json(
                400, {"error": {"message": "completion_window must be 24h", "type": "invalid_request_error", "param": "completion_window", "code": None}}
            )
        now = int(self.clock())
        batch = {
            "id": "batch_" + uuid.uuid4().hex[:24],
            "object": "batch",
            "endpoint": endpoint,
            "errors": None,
            "input_file_id": input_file_id,
            "completion_window": "24h",
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": now,
            "in_progress_at": None,
            "expires_at": now + 24 * 3600,
            "finalizing_at": None,
            "completed_at": None,
            "failed_at": None,
            "expired_at": None,
            "cancelling_at": None,
            "cancelled_at": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": params.get("metadata"),
            "_created_clock": self.clock(),
        }
        self._store_batch(batch)
        return self._json(200, self._public(batch))

    @staticmethod
    def _public(batch: dict) -> dict:
        return {k: v for k, v in batch.items() if not k.startswith("_")}

    def _validate_input(self, batch: dict) -> tuple[list[dict], list[dict]]:
        """Parse the input file; returns (request lines, validation errors as in ``errors.data``)."""
        errors: list[dict] = []
        lines: list[dict] = []
        seen: set[str] = set()
        text = self._file_data_path(batch["input_file_id"]).read_text(encoding="utf-8")
        for no, raw in enumerate(text.splitlines(), 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError:
                errors.append({"code": "invalid_json_line", "message": "This line is not parseable as valid JSON.", "param": None, "line": no})
                continue
            cid = obj.get("custom_id") if isinstance(obj, dict) else None
            if not isinstance(cid, str) or not cid:
                errors.append({"code": "missing_required_parameter", "message": "custom_id is required", "param": "custom_id", "line": no})
            elif cid in seen:
                errors.append(
                    {
                        "code": "duplicate_custom_id",
                        "message": f"The custom_id for this request is a duplicate of another request: {cid}",
                        "param": "custom_id",
                        "line": no,
                    }
                )
            elif obj.get("method") != "POST" or obj.get("url") != batch["endpoint"]:
                errors.append(
                    {
                        "code": "invalid_url",
                        "message": f"The URL provided for this request does not match the batch endpoint {batch['endpoint']}.",
                        "param": "url",
                        "line": no,
                    }
                )
            elif not isinstance(obj.get("body"), dict) or not obj["body"].get("model"):
                errors.append({"code": "missing_required_parameter", "message": "body.model is required", "param": "body.model", "line": no})
            else:
                seen.add(cid)
                lines.append(obj)
        if len(lines) > MAX_REQUESTS_PER_FILE:
            errors.append({"code": "too_many_requests", "message": f"A batch may hold at most {MAX_REQUESTS_PER_FILE} requests.", "param": None, "line": None})
        if not lines and not errors:
            errors.append({"code": "empty_file", "message": "The input file has no requests.", "param": None, "line": None})
        return lines, errors

    def _advance(self, batch: dict) -> dict:
        """Bring a stored batch up to date with the clock; returns its public form."""
        now = self.clock()
        status = batch["status"]
        if status in ("completed", "failed", "expired", "cancelled"):
            return self._public(batch)
        started = batch["_created_clock"]
        if status == "validating" and now - started >= self.options.validate_s:
            lines, errors = self._validate_input(batch)
            if errors:
                batch.update(status="failed", failed_at=int(now), errors={"object": "list", "data": errors[:100]})
                self._store_batch(batch)
                return self._public(batch)
            batch["_order"] = [l["custom_id"] for l in lines]
            random.Random(batch["id"]).shuffle(batch["_order"])
            batch.update(status="in_progress", in_progress_at=int(now))
            batch["request_counts"] = {"total": len(lines), "completed": 0, "failed": 0}
            batch["_started"] = started + self.options.validate_s
        if batch["status"] in ("in_progress", "cancelling"):
            total = batch["request_counts"]["total"]
            done = min(total, int((now - batch["_started"]) / max(self.options.seconds_per_request, 1e-9)))
            if batch["status"] == "cancelling":
                self._finish(batch, done, "cancelled", now)
            elif self.options.expire_after_s is not None and now - started >= self.options.expire_after_s and done < total:
                self._finish(batch, done, "expired", now)
            elif done >= total:
                self._finish(batch, total, "completed", now)
            else:
                self._count(batch, done)
        self._store_batch(batch)
        return self._public(batch)

    def _count(self, batch: dict, done: int) -> None:
        order = batch["_order"][:done]
        failed = sum(1 for cid in order if _unit(cid, "fault") < self.options.error_rate)
        batch["request_counts"].update(completed=done - failed, failed=failed)

    def _finish(self, batch: dict, done: int, final: str, now: float) -> None:
        """Write output / error files for the first ``done`` requests and close the batch."""
        by_id = {l["custom_id"]: l for l in self._validate_input(batch)[0]}
        out_lines: list[dict] = []
        err_lines: list[dict] = []
        for i, cid in enumerate(batch["_order"]):
            if i < done:
                line = complete_request(cid, by_id[cid]["body"], self.options)
                (out_lines if line["response"]["status_code"] == 200 else err_lines).append(line)
            else:
                code = "batch_cancelled" if final == "cancelled" else "batch_expired"
                msg = (
                    "This request was not executed because the batch was cancelled."
                    if final == "cancelled"
                    else "This request could not be executed before the completion window expired."
                )
                err_lines.append(
                    {
                        "id": "batch_req_" + uuid.uuid5(uuid.NAMESPACE_URL, cid).hex[:24],
                        "custom_id": cid,
                        "response": None,
                        "error": {"code": code, "message": msg},
                    }
                )

        def dump(lines: list[dict], name: str) -> str | None:
            if not lines:
                return None
            data = "".join(json.dumps(l, ensure_ascii=False) + "\n" for l in lines).encode()
            return self._save_file(data, name, "batch_output")["id"]

        batch["output_file_id"] = dump(out_lines, f"{batch['id']}_output.jsonl")
        batch["error_file_id"] = dump(err_lines, f"{batch['id']}_error.jsonl")
        failed = sum(1 for l in err_lines if l["response"] is not None)
        batch["request_counts"].update(completed=len(out_lines), failed=failed + (len(err_lines) - failed if final != "completed" else 0))
        ts = int(now)
        batch.update(status=final, finalizing_at=ts)
        batch[f"{final}_at"] = ts
        batch.pop("_order", None) if final == "completed" else None

    def _cancel(self, batch_id: str) -> httpx2.Response:
        batch = self._load_batch(batch_id)
        if not batch:
            return self._not_found("batch")
        self._advance(batch)
        batch = self._load_batch(batch_id)
        assert batch is not None  # it was there a moment ago, under the lock, and nothing deletes a batch
        if batch["status"] in ("completed", "failed", "expired", "cancelled"):
            return self._json(
                409,
                {"error": {"message": f"Cannot cancel a batch with status {batch['status']}.", "type": "invalid_request_error", "param": None, "code": None}},
            )
        if batch["status"] == "validating":
            lines, _ = self._validate_input(batch)
            batch["_order"] = [l["custom_id"] for l in lines]
            batch["_started"] = self.clock()
            batch["request_counts"] = {"total": len(lines), "completed": 0, "failed": 0}
        batch.update(status="cancelling", cancelling_at=int(self.clock()))
        self._store_batch(batch)
        return self._json(200, self._public(batch))
