"""The interaction text the encoder reads. Index, training, user vectors and rerank all take it from here,
so the vectors they compare were made from the same kind of text (persona text: offline/persona_text.py).

Interaction text (one (user, item) interaction, the paper's concat(s_i, a_{u,i})):
    the item summary, then the kept aspect slots of the user's review on a new line. A textless review or
    a dropped tuple (more than 75% null slots) contributes nothing: the summary alone.
"""

from __future__ import annotations

from ..offline.schema import AspectTuple


def interaction_text(summary: str, aspects: AspectTuple | None) -> str:
    summary = (summary or "").strip()
    aspect_text = aspects.as_text().strip() if aspects is not None and aspects.usable() else ""
    return f"{summary}\n{aspect_text}" if aspect_text else summary
