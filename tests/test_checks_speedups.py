"""The text helpers rewritten for speed (issue 14, ingest speed) answer exactly as the code they
replaced: the old implementations are kept here as the reference and compared on generated text
built from the characters each helper reacts to."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from datagen.checks import consistency, content


def reference_model_maker(text: str) -> str | None:
    """``content.model_maker`` before issue 14's speed work (no pre-filter)."""
    low = text.lower()
    for w in content._LATIN_WORD.findall(low):
        if w in content.MODEL_NAMES or w.rstrip("0123456789") in content.MODEL_NAMES:
            return w
    if "open ai" in low:
        return "open ai"
    if content._MODEL_NAME_KO.search(low):
        return min((w for w in content.MODEL_NAMES_KO if w in low), key=content.MODEL_NAMES_KO.index)
    return None


def reference_before_figures(line: str) -> str | None:
    """``consistency._before_figures`` before issue 14's speed work."""
    if consistency._PARENS.sub("", line).find(":") != -1 or "：" in consistency._PARENS.sub("", line):
        return None
    m = consistency._FIGURE_CUT.search(line)
    cut = len(line) if m is None else m.start()
    if m is not None and line[cut] != "(":
        return None
    p = line.find("원", 0, cut)
    if p != -1:
        k, j = consistency._amount_before(line, p)
        if k < j:
            cut = k
    return line[:cut].strip()


def _texts(pieces: list[str], n: int):
    return st.lists(st.sampled_from(pieces), max_size=n).map("".join)


def reference_name_candidates(text: str) -> list[str]:
    """``consistency._name_candidates`` before issue 14's speed work (a loop over ``split``)."""
    cs = consistency
    out = [m.group(1).strip() for m in cs._BRACKET.finditer(text)] if "[" in text else []
    if "\n" in text or text.lstrip()[:1] in cs._LIST_START:
        for raw in text.split("\n"):
            line = raw.lstrip()
            if not line or line[0] not in cs._LIST_START or ("(" not in line and not cs._PRICE.search(line)):
                continue
            if cs._ASCII_DIGIT.search(line) is None:
                continue
            m = cs._LIST_ITEM.match(line)
            if m is None:
                continue
            name = reference_before_figures(m.group(1))
            if name is not None:
                out.append(name)
    names = [n.strip(cs._MARKS) for n in out]
    return [n for n in names if len(n.replace(" ", "")) >= 2 and not n.startswith(cs._LABELS)]


NAME_TEXT = _texts(
    list("abcgptlamqwenAIGPT0123456789 -._오픈에이아이챗지피티클로드앤트로픽큐웬원제미나이딥시크") + ["open ai", "chatgpt", "Qwen2", "GPT4o", "İ", "K"], 30
)
LINE_TEXT = _texts(list("()：: 가게원0123456789,약평점-") + ["12,000원", "(평점 4.5)", "1. "], 30)


@settings(max_examples=400, deadline=None)
@given(NAME_TEXT)
def test_model_maker_finds_what_the_unfiltered_scan_found(text):
    assert content.model_maker(text) == reference_model_maker(text)


@settings(max_examples=300, deadline=None)
@given(LINE_TEXT)
def test_before_figures_cuts_every_line_as_before(line):
    assert consistency._before_figures(line) == reference_before_figures(line)


LISTING_TEXT = _texts(
    [
        "\n",
        " ",
        "\t",
        "\r",
        "\u3000",
        "\x85",
        "1. ",
        "2) ",
        "- ",
        "• ",
        "* ",
        "가게",
        "[화덕공방]",
        "(평점 4.5)",
        "12,000원",
        "배달비: ",
        "약 ",
        "a1",
        "이런 곳이 있어요.",
    ],
    14,
)


@settings(max_examples=400, deadline=None)
@given(LISTING_TEXT)
def test_listing_names_are_found_as_the_split_loop_found_them(text):
    assert consistency._name_candidates(text) == reference_name_candidates(text)


def test_the_references_see_amounts_names_and_labels():
    """The generated text reaches the interesting branches (these would fail on a broken strategy)."""
    assert reference_model_maker("저는 ChatGPT예요") == content.model_maker("저는 ChatGPT예요") == "chatgpt"
    assert reference_before_figures("배달비: 2,000원") is None and reference_before_figures("가게 (평점 4.5)") == "가게"
    listing = "이런 곳이 있어요.\n 1. 진짜루 (평점 4.8)\n\u3000- 만리장성 7,000원\n배달비: 2,000원"
    assert reference_name_candidates(listing) == consistency._name_candidates(listing) == ["진짜루", "만리장성"]
