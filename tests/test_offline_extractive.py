"""The extractive backend's parts: text helpers, slot assignment, clustering, naming, profile decay."""

from __future__ import annotations

import numpy as np
import pytest

from persona4rec.offline.backend import AlignmentRequest, ItemInput, PersonaRequest, ProfileEntry, ReviewInput
from persona4rec.offline.extractive import ExtractiveBackend, cluster_reviews, distinctive_terms, profile_embedding
from persona4rec.offline.persona_text import persona_explanation, persona_set_text, persona_text
from persona4rec.offline.schema import AspectTuple, Persona
from persona4rec.offline.text import clean, quote, quoted_phrases, sentences, trim


@pytest.fixture(scope="module")
def backend():
    return ExtractiveBackend()


def test_text_helpers():
    assert clean("<p>Fine &amp; <b>loud</b></p>\n x") == "Fine & loud x"
    assert sentences("It works. Really well!\nGreat buy? ok") == ["It works.", "Really well!", "Great buy?"]
    assert trim("one two three four", 2) == "one two…"
    said = "They say " + quote('a "big" sound') + " and " + quote("cheap")
    assert quoted_phrases(said) == ["a 'big' sound", "cheap"]


def test_sentences_go_to_their_slot_and_evidence_free_reviews_stay_null(backend):
    reviews = [
        ReviewInput("u1", "i", 5.0, "", "I bought this as a present for my wife's birthday."),
        ReviewInput("u2", "i", 2.0, "", "It fell apart after a week, the build quality is awful."),
        ReviewInput("u3", "i", 4.0, "", "I use it every morning in my kitchen before work."),
        ReviewInput("u4", "i", 3.0, "ok", "Five stars."),
    ]
    tuples = {r.key: r.value for r in backend.extract_aspects(reviews)}
    assert tuples["u1|i"].purchase_purpose and "birthday" in tuples["u1|i"].purchase_purpose
    assert tuples["u2|i"].quality_criteria and "quality" in tuples["u2|i"].quality_criteria
    assert tuples["u3|i"].usage_context and "kitchen" in tuples["u3|i"].usage_context
    assert tuples["u4|i"].null_fraction() == 1.0 and not tuples["u4|i"].usable()
    assert "birthday" in tuples["u1|i"].purchase_purpose_reason  # the reason quotes the sentence


def test_summary_prefers_metadata_then_reviews(backend):
    items = [
        ItemInput("a", "Red Kettle", "A steel kettle. It boils fast. It whistles. It is red.", ["Kitchen"], {}),
        ItemInput(
            "b",
            "Blue Mug",
            "",
            [],
            {},
            review_texts=["Keeps my tea hot for an hour.", "My tea stays hot for ages in this mug."],
        ),
    ]
    out = {r.key: r.value.summary for r in backend.summarize(items)}
    assert out["a"] == "Red Kettle (Kitchen). A steel kettle. It boils fast."
    assert out["b"].startswith("Blue Mug.") and "tea" in out["b"]


def test_cluster_counts():
    rng = np.random.default_rng(0)
    assert list(cluster_reviews(rng.normal(size=(1, 8)), 7)) == [0]
    assert sorted(cluster_reviews(rng.normal(size=(2, 8)), 7)) == [0, 1]
    centers = np.eye(8)[:3] * 10
    points = np.concatenate([c + rng.normal(scale=0.1, size=(6, 8)) for c in centers])
    labels = cluster_reviews(points, 7)
    assert len(set(labels)) == 3 and all(len(set(labels[k * 6 : (k + 1) * 6])) == 1 for k in range(3))
    assert len(set(cluster_reviews(points, 2))) == 2  # never more than max_k
    assert len(set(cluster_reviews(points, 1))) == 1  # single mode
    sampled = cluster_reviews(points, 7, sample=9)  # popular item: fit on a sample, assign the rest
    assert len(set(sampled)) == 3 and all(len(set(sampled[k * 6 : (k + 1) * 6])) == 1 for k in range(3))


def test_distinctive_terms_contrast_clusters():
    terms = distinctive_terms(
        ["gift for my son, a birthday gift", "live on stage with the band, stage gig"], stop_extra="Guitar Strings"
    )
    assert terms[0][0] == "gift" and terms[1][0] == "stage"


def test_profile_decay_weights_recent_entries_more():
    old, recent = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    user = profile_embedding(np.concatenate([old, recent]), decay=0.5)  # oldest first
    assert user[1] > user[0] and np.isclose(np.linalg.norm(user), 1.0)
    assert np.allclose(profile_embedding(np.concatenate([old, recent]), decay=1.0), [2**-0.5, 2**-0.5])


def test_single_review_gives_one_persona_and_alignment_follows_the_profile(backend):
    review = ReviewInput("u1", "i", 5.0, "", "I bought it as a gift for my daughter's birthday.")
    aspects = backend.extract_aspects([review])[0].value
    result = backend.generate_personas([PersonaRequest("i", "Kettle", "A kettle.", [review], [aspects])])[0]
    assert len(result.value.personas) == 1 and result.value.evidence == {"P1": ["u1|i"]}

    gift = Persona(
        id="P1",
        name="Gift Buyers",
        description='They buy it for "a birthday present for my mother"',
        preference_rationale='Their reviews say "a birthday present for my mother"',
    )
    studio = Persona(
        id="P2",
        name="Studio Buyers",
        description='They use it "in the recording studio every day"',
        preference_rationale='Their reviews say "in the recording studio every day"',
    )
    history = [
        ProfileEntry(
            item_id="x",
            timestamp=1,
            summary="A scarf.",
            aspects=AspectTuple(purchase_purpose="a birthday present for my sister"),
        )
    ]
    request = AlignmentRequest("u9", "i", "Kettle", history, [studio, gift])
    selection = backend.align([request])[0].value
    assert selection.persona_id == "P1" and "birthday present" in selection.justification
    cold = backend.align([AlignmentRequest("u8", "i", "Kettle", [], [studio, gift])])[0].value
    assert cold.persona_id == "P2"  # no history: the first (largest) persona


def test_one_persona_text_for_models_and_one_for_people():
    p = Persona(id="P1", name="Gift Buyers", description="Buy it as a present.", preference_rationale="Gifts.")
    q = Persona(id="P2", name="Cooks", description="Use it daily.", preference_rationale="Sturdy.")
    assert persona_text(p) == "Gift Buyers. Buy it as a present.\nWhy: Gifts."  # what the index embeds
    assert persona_explanation(p) == "Gift Buyers: Buy it as a present.\nWhy: Gifts."  # what an annotator reads
    assert persona_set_text([p, q]).splitlines() == [
        "Gift Buyers: Buy it as a present. Why: Gifts.",
        "Cooks: Use it daily. Why: Sturdy.",
    ]


def test_alignment_compares_the_text_the_index_embeds(backend):
    """The extractive judge embeds each persona as persona_text does (what the persona index embeds)."""
    gift = Persona(id="P1", name="Gift Buyers", description="For a present.", preference_rationale="Birthdays.")
    history = [ProfileEntry(item_id="x", timestamp=1, summary="A scarf.", aspects=AspectTuple(purchase_purpose="gift"))]
    backend.align([AlignmentRequest("u1", "i", "Kettle", history, [gift])])
    assert persona_text(gift) in backend._vectors
