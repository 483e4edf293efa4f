"""The interaction text the encoder reads. Index, training, user vectors and rerank all take it from here,
so the vectors they compare were made from the same kind of text (persona text: offline/persona_text.py).

Interaction text (one (user, item) interaction), in the workspace's form (manifest field
"interaction_text", set by `persona4rec train WS --interaction-text FORM`):
    "aspects" (default, the paper's concat(s_i, a_{u,i}))  the item summary, then the kept aspect slots of
        the user's review on a new line. A textless review or a dropped tuple (more than 75% null slots)
        contributes nothing: the summary alone.
    "review"  the item summary, then the user's own review ("title. text") on a new line: what the user
        wrote, not the extractive backend's one sentence per slot. A textless review: the summary alone.
Every encoder slot of a workspace reads the same form; changing it re-encodes the interaction caches
(text hashes change), never the personas.
"""

from __future__ import annotations

from ..errors import ConfigError
from ..offline.schema import AspectTuple

INTERACTION_TEXT_FORMS = ("aspects", "review")
DEFAULT_INTERACTION_TEXT = "aspects"
INTERACTION_TEXT_FIELD = "interaction_text"  # the manifest field that holds a workspace's form


def check_interaction_text(form: str) -> str:
    if form not in INTERACTION_TEXT_FORMS:
        raise ConfigError(f"interaction text form '{form}' is not one of {', '.join(INTERACTION_TEXT_FORMS)}")
    return form


def interaction_text(summary: str, aspects: AspectTuple | None, review: str | None = None) -> str:
    """The "aspects" form; given `review` (the "review" form) the summary and the review text instead."""
    summary = (summary or "").strip()
    if review is not None:
        extra = review.strip()
    else:
        extra = aspects.as_text().strip() if aspects is not None and aspects.usable() else ""
    return f"{summary}\n{extra}" if extra else summary


def review_text(title: str, text: str) -> str:
    """A review as the "review" form reads it: "title. text", either part alone when the other is blank."""
    return ". ".join(part for part in ((title or "").strip(), (text or "").strip()) if part)
