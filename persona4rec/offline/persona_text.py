"""A persona as text, in the three forms its readers need; every caller takes its text from here.

What a model embeds (`persona_text`, by mode; the encoder's training pairs, the persona index and the
extractive backend's alignment all use it, so the vectors they compare come from the same text):
    "full" (default)    "Name. Description\\nWhy: rationale": the rationale carries the review evidence
                        (what buyers valued), which is what a user's history aspects talk about.
    "name-description"  "Name. Description" (the rationale left out).
    "description"       the description alone.
What a person reads:
    persona_explanation  one persona as an explanation: "Name: Description\\nWhy: rationale" (the study's
                         explanations, the app's single- vs multi-persona page).
    persona_set_text     all of an item's personas, one per line (a persona-quality study judges the set):
                         "Name: Description Why: rationale", so a line is a persona.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import ConfigError
from .schema import Persona

PERSONA_TEXT_MODES = ("full", "name-description", "description")
DEFAULT_PERSONA_TEXT = "full"


def check_persona_text_mode(mode: str) -> str:
    if mode not in PERSONA_TEXT_MODES:
        raise ConfigError(f"persona text mode '{mode}' is not one of {', '.join(PERSONA_TEXT_MODES)}")
    return mode


def persona_text(persona: Persona, mode: str = DEFAULT_PERSONA_TEXT) -> str:
    """What is embedded for `persona` under `mode` (see the module docstring)."""
    if check_persona_text_mode(mode) == "full":
        return f"{persona.name}. {persona.description}\nWhy: {persona.preference_rationale}"
    if mode == "name-description":
        return f"{persona.name}. {persona.description}"
    return persona.description


def persona_explanation(persona: Persona) -> str:
    """One persona as the explanation a person reads: name and description, then why on its own line."""
    return f"{_named(persona)}\nWhy: {persona.preference_rationale}"


def persona_set_text(personas: Iterable[Persona]) -> str:
    """An item's personas as a persona-quality study shows them: one persona per line."""
    return "\n".join(f"{_named(p)} Why: {p.preference_rationale}" for p in personas)


def _named(persona: Persona) -> str:
    return f"{persona.name}: {persona.description}".strip()
