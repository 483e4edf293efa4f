"""The LLM backend's own logic, without a server: persona bounds, the semantic checks fed back to the
model, evidence mapping, the wire schemas it sends, and dry-run estimates from the real prompts."""

from __future__ import annotations

import pytest

from persona4rec.llm.config import LLMConfig
from persona4rec.offline.backend import AlignmentRequest, ItemInput, PersonaRequest, ReviewInput
from persona4rec.offline.llm_backend import (
    TYPICAL_COMPLETION_TOKENS,
    LLMBackend,
    PersonaAnswer,
    _as_persona_set,
    persona_bounds,
)
from persona4rec.offline.schema import AspectTuple, Persona, PersonaSelection, ProfileEntry
from persona4rec.workspace import Workspace


@pytest.fixture
def backend(tmp_path):
    return LLMBackend(Workspace(tmp_path), LLMConfig(model="gpt-4o-mini", base_url=None), "books")


def review(user, rating=5.0):
    return ReviewInput(user_id=user, item_id="I1", rating=rating, title="t", text="text", item_title="A book")


def persona_request(n_reviews, single=False, max_personas=7):
    reviews = [review(f"u{k}") for k in range(n_reviews)]
    aspects = [AspectTuple(category_preference="thrillers", quality_criteria="pacing")] * n_reviews
    return PersonaRequest(
        item_id="I1",
        item_title="A book",
        summary="A thriller.",
        reviews=reviews,
        aspects=aspects,
        single=single,
        max_personas=max_personas,
    )


def answer(n, evidence=(1,)):
    return PersonaAnswer.model_validate(
        {
            "personas": [
                {
                    "id": f"P{k}",
                    "name": "n",
                    "description": "d",
                    "preference_rationale": "r (R1)",
                    "evidence": list(evidence),
                }
                for k in range(1, n + 1)
            ]
        }
    )


def test_persona_bounds_follow_the_paper():
    assert persona_bounds(persona_request(1)) == (1, 1)  # one review -> one persona
    assert persona_bounds(persona_request(5)) == (2, 7)
    assert persona_bounds(persona_request(5, single=True)) == (1, 1)
    assert persona_bounds(persona_request(5, max_personas=3)) == (2, 3)


def test_persona_request_checks_count_and_evidence(backend):
    request = backend._persona_request(persona_request(3))
    assert request.check(answer(2)) is None
    assert request.check(answer(1)) == "give between 2 and 7 persona(s), not 1"
    assert "R1..R3" in request.check(answer(2, evidence=(4,)))
    wire = request.wire
    assert wire["properties"]["personas"]["minItems"] == 2 and wire["properties"]["personas"]["maxItems"] == 7
    persona = wire["$defs"]["EvidencedPersona"]["properties"]
    assert persona["id"]["enum"][:2] == ["P1", "P2"] and persona["evidence"]["items"]["enum"] == [1, 2, 3]
    assert "Book:" in request.messages[1]["content"] and "R3" in request.messages[1]["content"]


def test_single_mode_asks_for_exactly_one(backend):
    request = backend._persona_request(persona_request(4, single=True))
    assert request.check(answer(2)) == "give exactly 1 persona(s), not 2"
    assert "exactly one persona" in request.messages[1]["content"]


def test_evidence_numbers_become_review_keys():
    value = _as_persona_set(answer(2, evidence=(2, 2, 1)), persona_request(2))
    assert value.evidence == {"P1": ["u1|I1", "u0|I1"], "P2": ["u1|I1", "u0|I1"]}
    assert all(type(p) is Persona for p in value.personas)


def test_judge_must_pick_an_offered_id(backend):
    personas = [Persona(id=i, name="n", description="d", preference_rationale="r") for i in ("P1", "P2")]
    profile = [
        ProfileEntry(
            item_id="I0", timestamp=1, summary="An older thriller.", aspects=AspectTuple(quality_criteria="pacing")
        )
    ]
    request = backend._judge_request(
        AlignmentRequest(user_id="u", item_id="I1", item_title="A book", profile=profile, personas=personas)
    )
    assert request.wire["properties"]["persona_id"] == {"type": "string", "enum": ["P1", "P2"]}
    assert request.check(PersonaSelection(persona_id="P3", justification="j")).startswith("persona_id must be one of")
    assert request.check(PersonaSelection(persona_id="P2", justification="j")) is None
    assert "An older thriller." in request.messages[1]["content"]


def test_dry_run_estimate_renders_real_prompts(backend):
    items = [
        ItemInput(item_id=f"I{k}", title="A book", description="x" * 800, categories=["Books"], attributes={})
        for k in range(3)
    ]
    usage = backend.estimate("summarize", items)
    assert usage.calls == 3 and usage.completion_tokens == 3 * TYPICAL_COMPLETION_TOKENS["summarize"]
    assert usage.prompt_tokens > 3 * 200  # the 800-character description alone is ~200 tokens
    assert usage.cost_usd == pytest.approx((usage.prompt_tokens * 0.15 + usage.completion_tokens * 0.60) / 1e6)
    assert not backend.ws.llm_cache_path.exists()
    mixed = backend.estimate("personas", [persona_request(1), persona_request(4)])
    assert (
        mixed.completion_tokens == TYPICAL_COMPLETION_TOKENS["personas_single"] + TYPICAL_COMPLETION_TOKENS["personas"]
    )


def test_summary_falls_back_to_reviews_then_title(backend):
    with_reviews = backend._summary_fields(ItemInput("I1", "Song", "", [], {}, review_texts=["Great bass line."]))
    assert (
        with_reviews["source_label"].startswith("Customer reviews")
        and "Great bass line." in with_reviews["source_text"]
    )
    assert "title" in backend._summary_fields(ItemInput("I2", "Song", "", [], {}))["source_text"]


def test_unknown_domain_fails_before_any_work(tmp_path):
    from persona4rec.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown prompt domain"):
        LLMBackend(Workspace(tmp_path), LLMConfig(model="gpt-4o-mini"), "movies")
