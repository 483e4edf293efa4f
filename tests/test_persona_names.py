"""Extractive persona names: uninformative words left out, plurals merged, names readable and distinct.
(Against the demo's planted reasons: tests/test_offline_quality.py.)"""

from __future__ import annotations

from persona4rec.offline.backend import PersonaRequest, ReviewInput
from persona4rec.offline.extractive import (
    GENERIC_REVIEW_WORDS,
    ExtractiveBackend,
    _distinct_names,
    distinctive_terms,
    persona_name,
    uninformative_words,
)
from persona4rec.offline.schema import AspectTuple, Persona


def test_generic_review_words_never_name_a_group():
    # the names the issue quotes came from clusters of "Does the job." and "Works as described." reviews
    docs = [
        "Does the job. Does the job well. It works as described.",
        "The noise cancelling makes my train commute quiet. Quiet commute on the train.",
    ]
    terms = distinctive_terms(docs)
    assert terms[0] == []  # nothing left to name the first group after: it becomes "General Buyers"
    assert {"noise", "commute", "train", "quiet"} >= set(terms[1][:2])
    assert {"does", "job", "works", "described"} <= GENERIC_REVIEW_WORDS


def test_title_words_and_their_plurals_are_left_out():
    docs = ["these guitars stay in tune, the strings sound bright", "a gift for my son, his first string set"]
    terms = distinctive_terms(docs, stop_extra="Phosphor Bronze Acoustic Guitar String Set")
    flat = {t for ts in terms for t in ts}
    assert not flat & {"guitar", "guitars", "string", "strings", "set"}
    assert "tune" in terms[0] and "gift" in terms[1]
    plural_title = distinctive_terms(["new string, bright string", "a gift"], stop_extra="Guitar Strings")
    assert "string" not in plural_title[0]


def test_plural_and_singular_count_as_one_term_and_possessives_are_cut():
    terms = distinctive_terms(["cable cables cable, sturdy cable", "a gift for Enya's fans, Enya's music"], top=3)
    assert terms[0][0] == "cable" and "cables" not in terms[0]
    assert "enya" in terms[1] and not any("'" in t for t in terms[1])
    assert "doesn't" not in {t for ts in distinctive_terms(["it doesn't hum", "i've got no hum"]) for t in ts}


def test_names_read_as_words():
    assert persona_name(["heat-up", "mornings"]) == "Heat-Up & Mornings Buyers"
    assert persona_name(["it's"]) == "It's Buyers"  # no "It'S" from str.title()
    assert persona_name([], "listeners", critical=True) == "Critical General Listeners"
    assert "job" in uninformative_words() and "kettle" in uninformative_words("Red Kettle")


def test_one_item_never_shows_two_personas_with_one_name():
    same = [Persona(id=f"P{n}", name="General Buyers", description="d", preference_rationale="r") for n in (1, 2, 3)]
    assert [p.name for p in _distinct_names(same)] == ["General Buyers", "General Buyers (P2)", "General Buyers (P3)"]


def test_backend_names_a_group_after_what_it_cares_about():
    """End to end through the backend: commuters, gift buyers and do-the-job reviewers of one item."""
    commute = [
        "The noise cancelling makes my train commute peaceful.",
        "On the subway the cancelling shuts out the noise.",
        "My daily commute is finally quiet, the noise is gone.",
    ]
    gifts = [
        "I bought these as a birthday gift for my brother.",
        "A birthday present for my daughter, she loves the gift.",
        "Gift for my husband's birthday.",
    ]
    generic = ["Does the job.", "Works as described.", "Does the job, works fine."]
    texts = commute + gifts + generic
    reviews = [ReviewInput(f"u{n}", "hp", 4.0, "", t) for n, t in enumerate(texts)]
    slot = ["usage_context"] * 3 + ["purchase_purpose"] * 3 + ["quality_criteria"] * 3
    aspects = [AspectTuple(**{s: t}) for s, t in zip(slot, texts)]
    request = PersonaRequest("hp", "Norvik K4 Wireless Headphones", "Headphones.", reviews, aspects, max_personas=3)
    personas = ExtractiveBackend().generate_personas([request])[0].value
    names = {tuple(sorted(keys)): p.name for p, keys in zip(personas.personas, personas.evidence.values())}
    by_group = {names[tuple(sorted(f"u{n}|hp" for n in group))] for group in ((0, 1, 2), (3, 4, 5), (6, 7, 8))}
    assert len(by_group) == 3, names  # the three groups were found
    commuters, gifters, general = (names[tuple(f"u{n}|hp" for n in g)] for g in ((0, 1, 2), (3, 4, 5), (6, 7, 8)))
    assert any(w in commuters.lower() for w in ("noise", "commute", "cancelling", "quiet")), commuters
    assert any(w in gifters.lower() for w in ("gift", "birthday")), gifters
    assert general == "General Buyers"
    assert not any(w in n.lower() for n in names.values() for w in ("does", "job", "works", "described", "norvik"))
