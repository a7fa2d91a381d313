"""Grounding catches a summary claim that says the opposite of the sentence it restates by gaining or losing a
negation, a meaning inversion that names, numbers and titles cannot reveal."""

from __future__ import annotations

from summarizer.grounding import check_summary
from summarizer.schema import KeyPoint, Sentence, Summary

ARTICLE = [
    Sentence(id="p1.s1", text="Misi NATO di Ukraina tidak menjadikan aliansi itu pihak dalam konflik.",
             en="NATO's mission in Ukraine does not make the alliance a party to the conflict."),
    Sentence(id="p1.s2", text="Para menteri pertahanan bertemu di Brussel untuk membahas bantuan militer.",
             en="Defence ministers met in Brussels to discuss military assistance."),
]


def summary(**changes) -> Summary:
    fields = dict(
        headline="NATO mission does not make the alliance a conflict party",
        one_line="Defence ministers met in Brussels to discuss military assistance.",
        summary="Defence ministers met in Brussels. NATO's mission does not make the alliance a party to the conflict.",
        key_points=[KeyPoint(text="Defence ministers met in Brussels to discuss military assistance.", sources=["p1.s2"]),
                    KeyPoint(text="NATO's mission in Ukraine does not make the alliance a party to the conflict.",
                             sources=["p1.s1"])],
    )
    fields.update(changes)
    return Summary(**fields)


def codes(issues) -> list[tuple[str, str]]:
    return [(i.code, i.message.split(":")[0]) for i in issues]


def test_faithful_claims_pass():
    checked, issues = check_summary(summary(), ARTICLE, strict=True)
    assert issues == [] and checked.grounding.unsupported == 0


def test_inverted_headline_is_rewritten_from_the_supported_points():
    inverted = "NATO mission in Ukraine makes the alliance a party to the conflict"
    checked, issues = check_summary(summary(headline=inverted), ARTICLE, strict=True)
    assert ("unsupported-polarity", "headline") in codes(issues)
    assert "the sentence is negated, the claim is not" in issues[0].message and "p1.s1" in issues[0].message
    assert checked.headline == "Defence ministers met in Brussels to discuss military assistance"
    assert checked.grounding.rewritten[0]["text"] == inverted


def test_negation_the_source_lacks_drops_a_key_point_in_strict_mode_and_flags_it_in_lenient():
    invented = KeyPoint(text="Defence ministers did not meet in Brussels to discuss military assistance.",
                        sources=["p1.s2"])
    points = [invented, summary().key_points[1]]
    strict, issues = check_summary(summary(key_points=points), ARTICLE, strict=True)
    assert ("unsupported-polarity", "key_points") in codes(issues)
    assert [p.text for p in strict.key_points] == [points[1].text]
    assert strict.grounding.dropped[0]["field"] == "key_points"
    lenient, _ = check_summary(summary(key_points=points), ARTICLE, strict=False)
    assert lenient.key_points[0].issues[0].startswith("unsupported-polarity: says the opposite of p1.s2")


def test_claims_about_something_else_are_not_compared():
    # Few shared content words with any sentence: polarity says nothing, so nothing is flagged.
    other = KeyPoint(text="Ukraine asked for no further sanctions on grain exports.", sources=["p1.s1"])
    _, issues = check_summary(summary(key_points=[other]), ARTICLE, strict=False)
    assert "unsupported-polarity" not in [i.code for i in issues]
