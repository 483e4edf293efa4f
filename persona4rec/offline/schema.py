"""What each offline stage produces, as pydantic models.

The same models are the structured-output schemas the LLM backend asks for and the records the
extractive backend writes, so every later stage reads one format whatever made it. Stored records carry
`backend` (e.g. "extractive:all-MiniLM-L6-v2", "llm:gpt-4o-mini", "authors:gpt-4o-mini") so the origin
of every summary, aspect, persona and justification is visible wherever it is shown.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ASPECT_SLOTS: tuple[str, ...] = ("category_preference", "purchase_purpose", "quality_criteria", "usage_context")
MAX_NULL_FRACTION = 0.75  # the paper drops a tuple with more than 75% null slots
MIN_PERSONAS, MAX_PERSONAS = 2, 7


def _blank_to_none(value):
    if isinstance(value, str) and value.strip().lower() in ("", "null", "none", "n/a", "unknown"):
        return None
    return value


# -- LLM answers / backend outputs ---------------------------------------------------------------


class ItemSummary(BaseModel):
    """2-3 neutral sentences saying what the item is."""

    model_config = ConfigDict(extra="ignore")
    summary: str = Field(min_length=1)


class AspectTuple(BaseModel):
    """Four slots read from one review, each with its reason; None where the review gives no evidence."""

    model_config = ConfigDict(extra="ignore")
    category_preference: str | None = None
    category_preference_reason: str | None = None
    purchase_purpose: str | None = None
    purchase_purpose_reason: str | None = None
    quality_criteria: str | None = None
    quality_criteria_reason: str | None = None
    usage_context: str | None = None
    usage_context_reason: str | None = None

    _normalise = field_validator("*", mode="before")(classmethod(lambda cls, v: _blank_to_none(v)))

    def null_fraction(self) -> float:
        return sum(getattr(self, slot) is None for slot in ASPECT_SLOTS) / len(ASPECT_SLOTS)

    def usable(self) -> bool:
        return self.null_fraction() <= MAX_NULL_FRACTION

    def as_text(self) -> str:
        """The slots that have evidence, as one line per slot (what the encoder reads)."""
        parts = []
        for slot in ASPECT_SLOTS:
            value = getattr(self, slot)
            if value is not None:
                parts.append(f"{slot.replace('_', ' ')}: {value}")
        return "; ".join(parts)


class Persona(BaseModel):
    """Who would like this item and why; the rationale cites review evidence."""

    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, description="short id unique within the item, e.g. P1")
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    preference_rationale: str = Field(min_length=1)


class PersonaSet(BaseModel):
    model_config = ConfigDict(extra="ignore")
    personas: list[Persona] = Field(min_length=1, max_length=MAX_PERSONAS)

    @field_validator("personas")
    @classmethod
    def _unique_ids(cls, personas: list[Persona]) -> list[Persona]:
        ids = [p.id for p in personas]
        if len(set(ids)) != len(ids):
            raise ValueError(f"persona ids must be unique, got {ids}")
        return personas


class PersonaSelection(BaseModel):
    """The judge's answer: exactly one persona id and a 2-3 sentence justification."""

    model_config = ConfigDict(extra="ignore")
    persona_id: str = Field(min_length=1)
    justification: str = Field(min_length=1)


# -- stored records (one JSON line each under <workspace>/offline/) --------------------------------


class SummaryRecord(BaseModel):
    item_id: str
    summary: str
    source: Literal["metadata", "reviews", "title"]
    backend: str


class AspectRecord(BaseModel):
    user_id: str
    item_id: str
    aspects: AspectTuple
    null_fraction: float
    kept: bool
    backend: str


class PersonaRecord(BaseModel):
    """All personas of one item. `persona_key` of each is f"{item_id}_{persona.id}" (the authors' format)."""

    item_id: str
    mode: Literal["multi", "single"]
    personas: list[Persona]
    summary_only: bool = False  # no usable aspect: the item is indexed by its summary alone
    evidence: dict[str, list[str]] = Field(default_factory=dict)  # persona id -> review keys "user_id|item_id"
    backend: str


class ProfileEntry(BaseModel):
    item_id: str
    timestamp: int
    rating: float | None = None
    summary: str
    aspects: AspectTuple | None = None


class ProfileRecord(BaseModel):
    """A user's last L training interactions, oldest first (the paper's P_u)."""

    user_id: str
    history: list[ProfileEntry]


class AlignmentRecord(BaseModel):
    """For one training interaction (user, item): the persona of the item that explains the choice."""

    user_id: str
    item_id: str
    persona_id: str
    justification: str
    backend: str


class FailureRecord(BaseModel):
    stage: str
    key: str
    reason: str
    raw: str | None = None
    backend: str


def persona_key(item_id: str, persona_id: str) -> str:
    return f"{item_id}_{persona_id}"
