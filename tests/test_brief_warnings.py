"""The Markdown brief groups repeated warnings so that a badly translated article's fit on one screen."""

from __future__ import annotations

from summarizer.render import render_markdown
from summarizer.schema import Issue, Record, Translation


def test_many_warnings_fit_one_screen_and_lose_no_count():
    warnings = [Issue(code="untranslated-word", message=f"'{w}' is Indonesian", sentence=f"p{n}.s1", stage="translate")
                for n in range(1, 41) for w in ("yang", "dengan", "tersebut")]
    warnings += [Issue(code="name-missing", message="'Stoltenberg' is not in the translation", sentence=f"p{n}.s2",
                       stage="translate") for n in range(1, 9)]
    warnings += [Issue(code="number-missing", message="'40.000' is not in the translation", sentence="p3.s1",
                       stage="translate"),
                 Issue(code="degenerate-output", message="translation still looks degenerate (commentary)",
                       sentence=None, stage="translate")]
    record = Record(id="abc", source="a.txt", translation=Translation(text="Text."), warnings=warnings)
    brief = render_markdown(record)
    section = brief[brief.index("## Warnings"):].strip().splitlines()
    assert section[0] == f"## Warnings ({len(warnings)})"
    assert len(section) == 2 + 4  # heading, blank line, one line per code
    assert section[2] == ("- **untranslated-word** ×120: 'yang' is Indonesian [p1.s1, p2.s1, p3.s1, p4.s1] …; "
                          "'dengan' is Indonesian [p1.s1, p2.s1, p3.s1, p4.s1] …; "
                          "'tersebut' is Indonesian [p1.s1, p2.s1, p3.s1, p4.s1] …")
    assert section[3].startswith("- **name-missing** ×8: 'Stoltenberg' is not in the translation [p1.s2,")
    assert section[5] == "- **degenerate-output** ×1: translation still looks degenerate (commentary)"


def test_distinct_messages_beyond_the_examples_are_counted():
    warnings = [Issue(code="name-added", message=f"'Name{n}' is not in the source", sentence="p1.s1") for n in range(7)]
    brief = render_markdown(Record(id="abc", source="a.txt", translation=Translation(text="T."), warnings=warnings))
    assert brief.rstrip().endswith("; and 4 more")
