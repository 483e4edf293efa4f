"""Dry-run stand-ins: inputs of typical size for a stage whose earlier stage has not run yet.

A dry run of the whole chain estimates every stage before any has written records; these stand in for the
missing summaries, aspects and personas so the later stages' estimates count realistic prompt sizes.
They are never written to a records file.
"""

from __future__ import annotations

from ..backend import ReviewInput
from ..schema import ASPECT_SLOTS, AspectTuple, Persona
from ..text import as_text


def stand_in_summary(item) -> str:
    """A summary-sized text for an items-table row: its description, else its title, else its id."""
    text = as_text(item.description) or as_text(item.title) or str(item.item_id)
    return text[:400]


def stand_in_aspects(review: ReviewInput) -> AspectTuple:
    """An aspect tuple about as long as a real one, made of the review's first words."""
    words = f"{review.title} {review.text}".split()
    chunk = " ".join(words[:12]) or "n/a"
    return AspectTuple(**{slot: chunk for slot in ASPECT_SLOTS}, **{f"{slot}_reason": chunk for slot in ASPECT_SLOTS})


def stand_in_personas(n: int = 4) -> list[Persona]:
    """`n` personas of typical size."""
    filler = " ".join(["word"] * 40)
    return [
        Persona(id=f"P{k}", name="stand-in persona", description=filler, preference_rationale=filler)
        for k in range(1, n + 1)
    ]
