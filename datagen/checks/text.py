"""Korean text helpers for the checks: numbers a customer said, sentences, script shares, overlap.

All regular expressions are compiled once at import.
"""

from __future__ import annotations

import re
import unicodedata

# ----------------------------------------------------------------------------- numbers said

# "3,000", "4.5", "2", optionally followed by a Korean unit (2천 = 2000, 1만 = 10000, 1만5천 = 15000).
# Patterns start with a character class (no look-behind first) so the regex engine can skip ahead
# quickly; the look-behind conditions are checked in Python.
_NUM = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(만|천|백)?(?:\s*(\d+)\s*(천|백))?")
_UNIT = {"만": 10000, "천": 1000, "백": 100}
_NATIVE = {"한": 1, "하나": 1, "두": 2, "둘": 2, "세": 3, "셋": 3, "석": 3, "네": 4, "넷": 4, "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9, "열": 10}
_COUNTERS = "개|마리|판|인분|그릇|잔|병|세트|조각|통|캔|명|줄|봉지|접시|팩|박스|공기|장|인"
_NATIVE_COUNT = re.compile(rf"(한|두|세|석|네|다섯|여섯|일곱|여덟|아홉|열)\s*(?:{_COUNTERS})")
_NATIVE_ALONE = re.compile(r"(하나|둘|셋|넷)")
_ALONE_AFTER = frozenset("만도랑요씩 \t\n.,!?~")
_WORD_AMOUNT = re.compile(r"(만|천)\s*원")
_FREE = re.compile(r"무료|공짜|0원|안\s*내|없는\s*곳|없는\s*데")


def _is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3"


def said_numbers(text: str) -> set[float]:
    """Every number ``text`` states, as floats: digits (``3,000``, ``4.5``), digits with a Korean unit
    (``2천`` → 2000, ``1만5천`` → 15000), ``만원`` / ``천원`` → 10000 / 1000, native numerals before a
    counter or alone (``두 판`` → 2, ``하나`` → 1) and 0 for ``무료`` / ``공짜``."""
    out: set[float] = set()
    if not text:
        return out
    for m in _NUM.finditer(text):
        if m.start() and text[m.start() - 1] == ".":
            continue
        base = float(m[1].replace(",", ""))
        out.add(base)
        if m[2]:
            total = base * _UNIT[m[2]]
            out.add(total)
            if m[3]:
                out.add(total + float(m[3]) * _UNIT[m[4]])
    for m in _NATIVE_COUNT.finditer(text):
        out.add(float(_NATIVE[m[1]]))
    for m in _NATIVE_ALONE.finditer(text):
        a, b = m.start(), m.end()
        if (a == 0 or not _is_hangul(text[a - 1])) and (b == len(text) or text[b] in _ALONE_AFTER):
            out.add(float(_NATIVE[m[1]]))
    for m in _WORD_AMOUNT.finditer(text):
        if not (m.start() and text[m.start() - 1].isdigit()):
            out.add(float(_UNIT[m[1]]))
    if _FREE.search(text):
        out.add(0.0)
    return out


_AMOUNT_GROUP = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_BEFORE_WON = frozenset("0123456789억만천")
_AMOUNT_CHARS = frozenset("0123456789,. 억만천")
_GROUP = re.compile(rf"({_AMOUNT_GROUP})\s*(억|만|천)?")
_ONE_GROUP = re.compile(_AMOUNT_GROUP)
_WON_UNIT = {"억": 100_000_000, "만": 10_000, "천": 1_000, "": 1}


def won_amounts(text: str) -> list[tuple[str, float]]:
    """``(as written, amount in won)`` for each amount of money in ``text`` read the Korean way:
    ``12,000원`` → 12000, ``5000 원`` → 5000, ``2천원`` → 2000, ``약 13만 3,096원`` → 133096,
    ``1억 2,000만 원`` → 120000000 (issue 13, false-alarm class 6: the ``만`` part was dropped).
    Groups must come in falling units (억, 만, 천, then a plain number); otherwise only the group
    right before ``원`` is read. An amount right after a digit or a ``.`` is not one (``4.5원``)."""
    out = []
    pos = text.find("원")
    while pos != -1:
        j = pos
        while j > 0 and text[j - 1] == " ":
            j -= 1
        if j == 0 or text[j - 1] not in _BEFORE_WON:
            pos = text.find("원", pos + 1)
            continue
        nxt = text.find("원", pos + 1)
        a = j
        while a > 0 and text[a - 1] in _AMOUNT_CHARS:
            a -= 1
        while a < j and not text[a].isdigit():
            a += 1
        if a == j or (a and text[a - 1] in "."):
            pos = nxt
            continue
        body = text[a : pos + 1]
        simple = _ONE_GROUP.fullmatch(body, 0, len(body[:-1].rstrip()))
        if simple:  # the common case, one group without a unit ("12,000원"): what the loop below reads
            out.append((body, float(simple.group().replace(",", ""))))
            pos = nxt
            continue
        groups = [(float(g.replace(",", "")), u) for g, u in _GROUP.findall(body)]
        if not groups:
            pos = nxt
            continue
        ranks = [_WON_UNIT[u] for _, u in groups]
        if len(groups) > 1 and any(r1 <= r2 for r1, r2 in zip(ranks, ranks[1:])):
            last = _GROUP.findall(body)[-1][0]
            body = body[body.rfind(last) :]
            groups, ranks = groups[-1:], ranks[-1:]
        out.append((body, sum(n * r for (n, _), r in zip(groups, ranks))))
        pos = nxt
    return out


# ----------------------------------------------------------------------------- normalising

_NON_WORD = re.compile(r"[\W_]+")


def squash(text: str) -> str:
    """NFKC, lower case, no whitespace, punctuation or symbols: the form substring tests use
    (Korean spacing is inconsistent, so ``문 앞에`` and ``문앞에`` compare equal)."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


_POLITE_TAIL = re.compile(r"(?:해\s*)?(?:주세요|주십시오|주시고|줘요|줘|줄래요?|부탁(?:드려요|드립니다|해요|합니다)?|바랍니다|요)$")


def bigram_coverage(needle: str, haystack_squashed: str) -> float:
    """Share of ``needle``'s character bigrams (after :func:`squash`, polite endings such as
    ``해 주세요`` removed) found in ``haystack_squashed``; 1.0 for an empty needle."""
    s = squash(_POLITE_TAIL.sub("", needle.strip(" .!~")))
    if len(s) < 2:
        return 1.0 if not s or s in haystack_squashed else 0.0
    grams = [s[i : i + 2] for i in range(len(s) - 1)]
    return sum(g in haystack_squashed for g in grams) / len(grams)


# ----------------------------------------------------------------------------- sentences, scripts

_SENTENCE_END = re.compile(r"(?<=[.!?。！？~])\s+|\n+")


def sentences(text: str) -> list[str]:
    """``text`` split after ``. ! ? ~`` and at line breaks; blank pieces dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


_TRAILING = re.compile(r"[\s\W_]+$")


def closing_line(text: str, min_chars: int = 0) -> str:
    """The closing span of ``text``: its last sentence, with the sentences before it added (from
    the end) until the span holds at least ``min_chars`` characters without spaces and
    punctuation; whitespace collapsed, trailing punctuation and emoji removed.

    A canned sign-off is often two short sentences ("…상담사였습니다. 감사합니다."): comparing the
    last sentence alone ("감사합니다") never finds it repeated (issue 13, miss 2)."""
    parts = sentences(text)
    if not parts:
        return ""
    k = len(parts) - 1
    while k > 0 and len(squash(" ".join(parts[k:]))) < min_chars:
        k -= 1
    return _TRAILING.sub("", " ".join(" ".join(parts[k:]).split()))


HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
OTHER_LETTER = re.compile(
    r"[A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u0590-\u05ff\u0600-\u06ff\u0e00-\u0e7f"
    r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
)
"""Letters of other scripts: Latin, Greek, Cyrillic, Hebrew, Arabic, Thai, kana, CJK ideographs."""


_CODE_TOKENS = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"  # UUID
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail address
    r"|(?:https?://|www\.)\S+"  # URL
    r"|\b[A-Za-z_]*[0-9][A-Za-z0-9_]*\b"  # a token with digits: ids, passwords, model numbers
    r"|\b[a-z]+(?:_[a-z0-9]+)+\b"  # snake_case identifier
    r"|\b[a-z]+(?:[A-Z][a-z0-9]+)+\b"  # camelCase identifier
)


def strip_codes(text: str) -> str:
    """``text`` without UUIDs, e-mail addresses, URLs, tokens holding digits and code identifiers:
    data a Korean turn may quote, not words of another language (issue 13, false-alarm class 5)."""
    return _CODE_TOKENS.sub(" ", text)


def hangul_share(text: str) -> tuple[float, int]:
    """``(Hangul letters / (Hangul + other-script letters), number of those letters)``; digits,
    punctuation, symbols and emoji do not count."""
    h = len(HANGUL.findall(text))
    o = len(OTHER_LETTER.findall(text))
    n = h + o
    return (h / n if n else 1.0), n
