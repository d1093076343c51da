"""Category contracts and content: model makers, AI self-talk, language, length, unsupported handling.

Sources: seed 001's gold-set table (``config.GOLD_CATEGORIES``: required / any-of / forbidden tool
calls, order); Tülu 3's keyword filter that drops mentions of model makers (ARCHITECTURE.md, "Facts"); the
post-mortems (assistant text claiming actions never taken, one canned hand-off line everywhere).
"""

from __future__ import annotations

import re
from itertools import islice

from .. import config
from . import text as tx
from .core import NOT_JSON, View, check

# ----------------------------------------------------------------------------- category contract


def _is_subsequence(needed: list[str], names: list[str]) -> bool:
    it = iter(names)
    return all(any(n == want for n in it) for want in needed)


@check("category_contract", "error", "wrong_tool", "카테고리 규칙 위반", "contract")
def category_contract(v: View):
    """The gold category's rules (``config.GOLD_CATEGORIES``): ``forbid_tool_calls`` → no call;
    every ``required_tools`` called (in that order when ``ordered``); one of ``any_of_tools`` called."""
    rules = config.GOLD_CATEGORIES.get(v.category)
    if rules is None:
        return
    names = [c.get("name") for _, c in v.calls]
    ko = rules["name_ko"]
    last = v.n - 1 if v.n else None
    if rules["forbid_tool_calls"]:
        if v.calls:
            yield v.calls[0][0], f"'{ko}' 카테고리는 도구를 호출하지 않아야 하는데 {names[0]}를 호출했습니다."
        return
    missing = [t for t in rules["required_tools"] if t not in names]
    if missing:
        yield last, f"'{ko}' 카테고리에 필요한 도구 {', '.join(missing)} 호출이 없습니다."
    elif rules["ordered"] and not _is_subsequence(rules["required_tools"], names):
        yield last, f"'{ko}' 카테고리는 {' → '.join(rules['required_tools'])} 순서로 호출해야 합니다."
    if rules["any_of_tools"] and not set(rules["any_of_tools"]) & set(names):
        yield last, f"'{ko}' 카테고리에는 {', '.join(rules['any_of_tools'])} 중 하나 이상의 호출이 필요합니다."


# ----------------------------------------------------------------------------- content

MODEL_NAMES = frozenset(
    {
        "openai",
        "chatgpt",
        "gpt",
        "gpts",
        "claude",
        "anthropic",
        "qwen",
        "qwen2",
        "qwen3",
        "gemini",
        "bard",
        "llama",
        "mistral",
        "mixtral",
        "deepseek",
        "copilot",
        "exaone",
        "hyperclova",
    }
)
"""Model and model-maker names, matched as whole Latin words (case-insensitive); Tülu 3 drops
training samples mentioning them (ARCHITECTURE.md, "Facts")."""
MODEL_NAMES_KO = (
    "오픈ai",
    "오픈 ai",
    "오픈에이아이",
    "챗gpt",
    "챗 gpt",
    "챗지피티",
    "지피티",
    "클로드",
    "앤트로픽",
    "큐웬",
    "큐원",
    "제미나이",
    "딥시크",
    "하이퍼클로바",
    "엑사원",
)
_LATIN_WORD = re.compile(r"[A-Za-z]+[0-9]?")
_MODEL_NAME_KO = re.compile("|".join(map(re.escape, MODEL_NAMES_KO)))
_ANY_MODEL_NAME = re.compile("|".join(map(re.escape, sorted(MODEL_NAMES | {"open ai"} | set(MODEL_NAMES_KO), key=len, reverse=True))))
"""Every name below as a plain substring: a text without any of them (lower-cased) has none of them as a word."""


def model_maker(text: str) -> str | None:
    """The first model or model-maker name in ``text`` (:data:`MODEL_NAMES`, :data:`MODEL_NAMES_KO`), or None."""
    low = text.lower()
    if _ANY_MODEL_NAME.search(low) is None:  # one scan; every name found below is such a substring
        return None
    for w in _LATIN_WORD.findall(low):
        if w in MODEL_NAMES or w.rstrip("0123456789") in MODEL_NAMES:
            return w
    if "open ai" in low:
        return "open ai"
    if _MODEL_NAME_KO.search(low):  # one scan; then the first name in list order, as before
        return min((w for w in MODEL_NAMES_KO if w in low), key=MODEL_NAMES_KO.index)
    return None


AI_SELF_TALK = re.compile(
    r"as an ai|i(?:'m| am) an ai|language model|(?:AI|인공지능)\s*(?:언어\s*)?모델|언어\s*모델"
    r"|(?:AI|인공지능)(?:로서|이라서|라서|이므로|이기\s*때문)|학습\s*데이터|훈련\s*데이터|지식\s*(?:컷오프|기준\s*시점)"
    r"|시스템\s*프롬프트|프롬프트에\s*따르|저는\s*(?:실제\s*)?사람이\s*아니",
    re.I,
)
"""Assistant talking about itself as a model instead of serving the customer."""
_SELF_TALK_HINTS = ("ai", "model", "모델", "인공지능", "학습", "훈련", "지식", "프롬프트", "사람이")
_SELF_TALK_HINT = re.compile("|".join(map(re.escape, _SELF_TALK_HINTS)))


@check("model_maker_mention", "error", "other", "모델·개발사 언급", "content")
def model_maker_mention(v: View):
    if not model_maker(v.all_text):
        return
    for i, role, text in v.texts:
        name = model_maker(text)
        if name:
            yield i, f"모델·개발사 이름 {name!r}이(가) 나옵니다 (학습 데이터에서 제외 대상)."


@check("ai_self_talk", "warning", "unnatural_korean", "AI 자기 언급", "content")
def ai_self_talk(v: View):
    if _SELF_TALK_HINT.search(v.assistant_text.lower()) is None:
        return
    for i, text in v.assistant_texts:
        m = AI_SELF_TALK.search(text)
        if m:
            yield i, f"상담사가 AI 모델로서의 자기 이야기를 합니다: {m.group(0)!r}"


MIN_LETTERS = 12
MIN_HANGUL_SHARE = 0.5
"""A customer or assistant turn with at least ``MIN_LETTERS`` letters of its own words needs at
least this share of Hangul among them (digits, punctuation and symbols do not count). Calibrated on
the real corpus (issue 13): short turns such as "Large 1판이요" are Korean with one English word."""


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _min_letters(text: str) -> int:
    """Letters a turn needs before its share is judged: ``MIN_LETTERS``, half of it when the turn
    holds that many kana or CJK ideographs (one ideograph carries about a word)."""
    return MIN_LETTERS // 2 if len(_CJK.findall(text)) >= MIN_LETTERS // 2 else MIN_LETTERS


def _quoted_data(v: View) -> list[str]:
    """Latin-script strings the dialogue's tool calls send or its tool results return (at least 6
    characters): text a turn may quote or echo ("이 문장을 대문자로", a converted sentence)."""
    cached = v.__dict__.get("_quoted")
    if cached is None:
        out: set[str] = set()

        def walk(x, depth=0):
            if depth > 6:
                return
            if isinstance(x, str):
                if len(x) >= 6 and tx.OTHER_LETTER.search(x):
                    out.add(x)
            elif isinstance(x, dict):
                for y in x.values():
                    walk(y, depth + 1)
            elif isinstance(x, list):
                for y in x:
                    walk(y, depth + 1)

        for _, c in v.calls:
            walk(c.get("arguments"))
        for i, t in enumerate(v.turns):
            if t.get("role") == "tool":
                r = v.result(i)
                walk(r if r is not NOT_JSON else (t.get("content") or ""))
        cached = v.__dict__["_quoted"] = sorted(out, key=len, reverse=True)
    return cached


@check("non_korean_text", "warning", "unnatural_korean", "한국어가 아닌 턴", "content")
def non_korean_text(v: View):
    """A customer or assistant turn whose own words are mostly not Korean. Not counted: UUIDs,
    e-mail addresses, URLs, tokens with digits, code identifiers (:func:`text.strip_codes`) and
    Latin-script text the dialogue's tool calls or results carry (a sentence to convert, a name)."""
    texts = v.texts
    if not texts:
        return
    # Cheap guard: a turn can only fail with at least MIN_LETTERS / 2 non-Hangul letters.
    if sum(1 for _ in islice(tx.OTHER_LETTER.finditer(v.all_text), MIN_LETTERS // 2)) < MIN_LETTERS // 2:
        return
    for i, role, text in texts:
        share, n = tx.hangul_share(text)
        if share >= MIN_HANGUL_SHARE or n < _min_letters(text):
            continue
        own = tx.strip_codes(text)
        for q in _quoted_data(v):
            if q in own:
                own = own.replace(q, " ")
        share, n = tx.hangul_share(own)
        if n >= _min_letters(own) and share < MIN_HANGUL_SHARE:
            yield i, f"{'고객' if role == 'user' else '상담사'} 턴의 한글 비율이 {share:.0%}입니다."


MIN_TURNS, MAX_TURNS = 2, 40
MAX_TURN_CHARS = 1500
MAX_TEXT_CHARS = 8000
"""Length bounds (this project's choice, from seed 001's 2–6 customer turns with tool turns between):
2–40 turns, one customer or assistant turn ≤ 1,500 characters, all their text ≤ 8,000 characters."""


@check("length_out_of_bounds", "warning", "other", "길이 범위 벗어남", "content")
def length_out_of_bounds(v: View):
    if v.n < MIN_TURNS or v.n > MAX_TURNS:
        yield (v.n - 1 if v.n else None), f"턴 수 {v.n}개가 허용 범위({MIN_TURNS}~{MAX_TURNS})를 벗어났습니다."
    total = 0
    for i, _, text in v.texts:
        total += len(text)
        if len(text) > MAX_TURN_CHARS:
            yield i, f"한 턴이 {len(text):,}자로 너무 깁니다 (최대 {MAX_TURN_CHARS:,}자)."
    if total > MAX_TEXT_CHARS:
        yield None, f"고객·상담사 텍스트가 모두 {total:,}자로 너무 깁니다 (최대 {MAX_TEXT_CHARS:,}자)."


# ----------------------------------------------------------------------------- unsupported handling

_PERSON = re.compile(
    r"상담원|상담\s*직원|직원|담당자|담당\s*(?:팀|부서)|관련\s*(?:팀|부서)|기술\s*팀|고객\s*지원\s*팀|매니저|고객센터"
    r"|사람(?:과|이랑|에게|한테)"
)
_PERSON_HINTS = ("상담", "직원", "담당", "관련", "기술", "지원", "매니저", "고객센터", "사람")
_HANDOFF = re.compile(r"연결|이관|넘겨|넘기|바꿔\s*드|전달(?:하|해|드|할|을|되)|(?:확인|문의|처리)\s*요청(?:하|드리|드릴|해)")
_NEGATION = re.compile(r"수\s*(?:는\s*|가\s*)?없|어렵|못\s|못해|불가|안\s*돼|않|없어요|없습니다")
_HANDOFF_TOOL = re.compile(r"agent|human|handoff|hand_off|transfer|escalat|connect|operator|ticket|inquiry", re.I)


def _has_handoff_tool(table) -> bool:
    """A tool whose name says it hands off (once per tool list)."""
    return any(_HANDOFF_TOOL.search(n) for n in table.fns)


@check("handoff_promise", "warning", "unsupported_handling", "지원하지 않는 상담원 연결 약속", "content")
def handoff_promise(v: View):
    """The assistant promises to hand the matter to a person or team (상담원 연결, 담당자에게 전달하여
    처리하겠습니다) though no tool can do that — the original pipeline's canned hand-off line
    (ARCHITECTURE.md, "Post-mortems"; issue 13, miss 1). A negation counts only when it follows the
    hand-off verb ("연결해 드릴 수 없어요"); one before it ("직접 처리할 수 없어서 담당자에게
    전달하겠습니다") is the reason given for the hand-off, which is still promised. Silent when a
    tool's name says it hands off (agent, transfer, ticket, …)."""
    if not any(h in v.assistant_text for h in _PERSON_HINTS) or v.table.memo_get("content.handoff_tool", _has_handoff_tool):
        return
    for i, text in v.assistant_texts:
        if not _PERSON.search(text):
            continue
        for s in v.sentences(i):
            if not _PERSON.search(s):
                continue
            m = _HANDOFF.search(s)
            if m and not _NEGATION.search(s, m.end()):
                yield i, f"할 수 없는 상담원·담당자 연결을 약속합니다: {s[:60]!r}"
                break


# (claim, tool-name fragments that make it true; None = any successful call that is not a lookup)
_CLAIMS: list[tuple[re.Pattern, tuple[str, ...] | None, str, tuple[str, ...]]] = [
    (
        re.compile(r"담았어요|담았습니다|담아\s*(?:드렸|놨|놓았|두었|뒀)|(?:장바구니|카트)에\s*추가(?:했|해\s*드렸)"),
        ("add", "cart"),
        "장바구니 담기",
        ("담았", "담아", "추가"),
    ),
    (
        re.compile(r"뺐어요|뺐습니다|빼\s*(?:드렸|놨|놓았)|(?:삭제|제거)(?:했어요|했습니다|해\s*드렸)"),
        ("remove", "delete"),
        "장바구니 빼기",
        ("뺐", "빼", "삭제", "제거"),
    ),
    (
        re.compile(r"개로\s*(?:바꿨|바꾸었|변경했|변경해\s*드렸|수정했)|수량을?\s*(?:\S+\s*)?(?:바꿨|변경했|변경해\s*드렸|수정했)"),
        ("update", "quantity", "cart"),
        "수량 변경",
        ("바꿨", "바꾸었", "변경", "수정"),
    ),
    (
        re.compile(r"주문(?:이|을|은)?\s*(?:접수(?:됐|되었|했|해\s*드렸)|완료(?:됐|되었|했)|넣었|넣어\s*드렸|해\s*드렸)"),
        ("place", "create", "submit", "confirm", "status", "orders"),
        "주문 접수",
        ("접수", "완료", "넣었", "넣어", "드렸"),
    ),
    (re.compile(r"취소(?:해\s*드렸|해\s*드릴게요|해\s*드리겠습니다|했어요|했습니다|처리(?:해\s*드렸|했|됐|되었))"), ("cancel",), "주문 취소", ("취소",)),
    (re.compile(r"환불(?:해\s*드렸|해\s*드릴게요|해\s*드리겠습니다|처리(?:해\s*드렸|했|됐|되었|해\s*드릴))"), ("refund",), "환불", ("환불",)),
    (re.compile(r"(?:쿠폰|할인)[^.!?\n]{0,20}적용(?:했|해\s*드렸|됐|되었)"), ("coupon", "checkout", "apply"), "쿠폰 적용", ("적용",)),
    (
        re.compile(r"(?:전달|신고|접수|등록|발급|처리|예약|조치)(?:해|하)\s*(?:드렸|드릴게요|둘게요|두겠|뒀|두었|놓을게요|놓겠|놨|드리겠습니다|겠습니다)"),
        None,
        "요청 처리",
        ("전달", "신고", "접수", "등록", "발급", "처리", "예약", "조치"),
    ),  # the verb the pattern needs: "겠습니다" alone is in most turns
]
_LOOKUP = ("get", "list", "search", "find", "check", "lookup", "view", "show")
_CLAIM_TESTS = [(*c, re.compile("|".join(map(re.escape, c[3]))).search) for c in _CLAIMS]
"""Each claim with its words as one search: a text holds one of the words exactly when it matches."""


def _made(v: View, turn: int, fragments: tuple[str, ...] | None) -> bool:
    for k, (i, c) in enumerate(v.calls):
        if i >= turn:
            return False
        name = (c.get("name") or "").lower()
        if fragments is None:
            ok = not name.startswith(_LOOKUP)
        else:
            ok = any(f in name for f in fragments)
        if ok and v.call_ok(k):
            return True
    return False


@check("claimed_action", "warning", "unsupported_handling", "하지 않은 처리를 했다고 말함", "content")
def claimed_action(v: View):
    """The assistant says it did something (담았어요, 주문이 접수됐어요, 취소해 드렸어요, 전달해 둘게요,
    접수해두겠습니다, 조치하겠습니다, …)
    with no earlier successful call of a tool that does it (ARCHITECTURE.md, "Post-mortems")."""
    joined = v.assistant_text
    claims = [c for c in _CLAIM_TESTS if c[4](joined)]  # cheap: a claim needs its words
    if not claims:
        return
    for i, text in v.assistant_texts:
        for rx, fragments, what, _, hint in claims:
            m = rx.search(text) if hint(text) else None
            if m and not _made(v, i, fragments):
                yield i, f"도구로 하지 않은 '{what}'을(를) 했다고 말합니다: {m.group(0)!r}"
                break
