"""The texts the encoder reads. Index, training, user vectors and rerank all take them from here, so the
vectors they compare were made from the same kind of text.

Interaction text (one (user, item) interaction, the paper's concat(s_i, a_{u,i})):
    the item summary, then the kept aspect slots of the user's review on a new line. A textless review or
    a dropped tuple (more than 75% null slots) contributes nothing: the summary alone.
Persona text, by `persona_text` mode:
    "full" (default)    name, description and preference rationale: the rationale carries the review
                         evidence (what buyers valued), which is what a user's history aspects talk about.
    "name-description"  name and description only (the rationale left out).
    "description"       the description alone.
"""

from __future__ import annotations

from ..errors import ConfigError
from ..offline.schema import AspectTuple, Persona

PERSONA_TEXT_MODES = ("full", "name-description", "description")
DEFAULT_PERSONA_TEXT = "full"


def interaction_text(summary: str, aspects: AspectTuple | None) -> str:
    summary = (summary or "").strip()
    aspect_text = aspects.as_text().strip() if aspects is not None and aspects.usable() else ""
    return f"{summary}\n{aspect_text}" if aspect_text else summary


def persona_text(persona: Persona, mode: str = DEFAULT_PERSONA_TEXT) -> str:
    if mode == "full":
        return f"{persona.name}. {persona.description}\nWhy: {persona.preference_rationale}"
    if mode == "name-description":
        return f"{persona.name}. {persona.description}"
    if mode == "description":
        return persona.description
    raise ConfigError(f"persona text mode '{mode}' is not one of {', '.join(PERSONA_TEXT_MODES)}")


def check_persona_text_mode(mode: str) -> str:
    if mode not in PERSONA_TEXT_MODES:
        raise ConfigError(f"persona text mode '{mode}' is not one of {', '.join(PERSONA_TEXT_MODES)}")
    return mode
