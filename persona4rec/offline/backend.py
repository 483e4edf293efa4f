"""The contract between the offline stages and whatever writes summaries, aspects, personas and selections.

Two implementations: the extractive no-LLM backend (`offline/extractive.py`) and the LLM backend
(`offline/llm_backend.py`, over `persona4rec.llm`). Stages hand a backend a batch of units and persist
each result as soon as the batch returns, so batches are the unit of resumability; a backend may work
on a batch concurrently (LLM) or vectorised (extractive).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from ..data.schema import review_key
from ..llm.usage import Usage
from .schema import AspectTuple, ItemSummary, Persona, PersonaSelection, PersonaSet, ProfileEntry

T = TypeVar("T")


@dataclass
class ItemInput:
    item_id: str
    title: str
    description: str
    categories: list[str]
    attributes: dict
    review_texts: list[str] = field(default_factory=list)  # used when an item has no metadata


@dataclass
class ReviewInput:
    user_id: str
    item_id: str
    rating: float | None
    title: str
    text: str
    item_title: str = ""

    @property
    def key(self) -> str:
        return review_key(self.user_id, self.item_id)


@dataclass
class PersonaRequest:
    item_id: str
    item_title: str
    summary: str
    reviews: list[ReviewInput]  # the reviews whose aspect tuples were kept, same order as aspects
    aspects: list[AspectTuple]
    single: bool = False  # one aggregated persona (the paper's single-persona variant)
    max_personas: int = 7


@dataclass
class AlignmentRequest:
    user_id: str
    item_id: str
    item_title: str
    profile: list[ProfileEntry]  # the user's history before this interaction, oldest first
    personas: list[Persona]

    @property
    def key(self) -> str:
        return review_key(self.user_id, self.item_id)


@dataclass
class UnitResult(Generic[T]):
    """One unit's outcome: a value, or an error with the raw answer that failed validation."""

    key: str
    value: T | None = None
    error: str | None = None
    raw: str | None = None
    usage: Usage = field(default_factory=Usage)

    @property
    def ok(self) -> bool:
        return self.value is not None


class OfflineBackend(Protocol):
    name: str  # stored in every record it makes, e.g. "extractive:all-MiniLM-L6-v2" or "llm:gpt-4o-mini"

    def summarize(self, items: Sequence[ItemInput]) -> list[UnitResult[ItemSummary]]: ...

    def extract_aspects(self, reviews: Sequence[ReviewInput]) -> list[UnitResult[AspectTuple]]: ...

    def generate_personas(self, requests: Sequence[PersonaRequest]) -> list[UnitResult[PersonaSet]]: ...

    def align(self, requests: Sequence[AlignmentRequest]) -> list[UnitResult[PersonaSelection]]: ...
