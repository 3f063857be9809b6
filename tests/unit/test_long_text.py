"""The splitter (bot/long_text.py): whatever the text and wherever it must cut, every piece is
Telegram HTML on its own (the emulator's strict parser accepts it, no entity is cut), at most the
limit long, and together the pieces say everything the text said."""

from __future__ import annotations

import html
import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from jointcheck.bot.long_text import split_text
from jointcheck.testing.emulator.formatting import visible_text

WHOLE_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);")
ELEMENTS = ("b", "i", "u", "s", "code", "pre", "tg-spoiler", "blockquote")


def plain() -> st.SearchStrategy[str]:
    # escaped as the templates escape what people type: notes full of < and &, CJK, line ends
    return st.text(alphabet=st.sampled_from("ab<>&\"'中文 \n"), max_size=40).map(html.escape)


def element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    tagged = st.tuples(st.sampled_from(ELEMENTS), children).map(lambda p: f"<{p[0]}>{p[1]}</{p[0]}>")
    link = st.tuples(st.from_regex(r"[a-z]{1,12}", fullmatch=True), children).map(lambda p: f'<a href="https://{p[0]}.cn">{p[1]}</a>')
    return tagged | link


telegram_html = st.recursive(plain(), lambda inner: st.lists(inner | element(inner), max_size=6).map("".join), max_leaves=20)


def nesting_cost(text: str) -> int:
    """The most characters a piece can need for reopening and closing the elements open at a cut."""
    stack, worst = [], 0
    for tag in re.findall(r"<[^<>]*>", text):
        if tag.startswith("</"):
            stack.pop()
        else:
            stack.append(len(tag) + len(tag.split()[0].rstrip(">")) + 2)
            worst = max(worst, sum(stack))
    return worst


def entities_whole(piece: str) -> bool:
    return all(WHOLE_ENTITY.match(piece, m.start()) for m in re.finditer("&", piece))


@settings(max_examples=100, deadline=None)
@given(text=telegram_html, limit=st.integers(min_value=120, max_value=400))
def test_every_piece_is_telegram_html_whatever_the_text_and_the_cut(text, limit):
    assume(nesting_cost(text) <= limit // 2)  # room for text besides the elements carried over a cut
    pieces = split_text(text, limit)
    assert all(len(piece) <= limit for piece in pieces)
    for piece in pieces:
        visible_text(piece, "HTML")  # raises as Telegram answers 400 on markup it cannot parse
        assert entities_whole(piece), piece
    said = "".join(visible_text(piece, "HTML") for piece in pieces)
    assert re.sub(r"\s", "", said) == re.sub(r"\s", "", visible_text(text, "HTML"))


def test_a_long_bold_line_of_escaped_text_is_cut_between_entities_and_stays_bold():
    text = "<b>" + html.escape("<" * 2000) + "</b>\n" + html.escape("&" * 3000)
    pieces = split_text(text)
    assert len(pieces) > 1 and all(len(p) <= 4096 for p in pieces)
    assert all(entities_whole(p) and visible_text(p, "HTML") for p in pieces)
    assert "".join(visible_text(p, "HTML") for p in pieces) == "<" * 2000 + "&" * 3000
    assert pieces[1].startswith("<b>&lt;")


def test_line_ends_are_preferred_and_nothing_is_lost():
    lines = [f"• line {i} " + "x" * (i % 90) for i in range(2000)]
    text = "\n".join(lines)
    pieces = split_text(text)
    assert len(pieces) > 1 and all(len(p) <= 4096 for p in pieces)
    assert "\n".join(pieces) == text
    assert split_text("short") == ["short"]
    assert all(len(p) <= 4096 for p in split_text("y" * 10000))
