"""A user's history beside their first-stage candidates reranked by the persona index, with explanations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..data.split import HISTORY_LENGTH, earlier_splits
from ..offline.schema import PersonaRecord
from ..offline.text import snippet
from .catalogue import Catalogue

if TYPE_CHECKING:
    import pandas as pd

    from ..rerank import RankedItem


def _date(ms) -> str:
    return dt.datetime.fromtimestamp(int(ms) / 1000, tz=dt.UTC).strftime("%Y-%m-%d")


def user_history(cat: Catalogue, user_id: str, split: str = "test", length: int = HISTORY_LENGTH) -> pd.DataFrame:
    """The interactions a `split` target may see, oldest first, with review snippet and extracted aspects;
    `in_profile` marks the last `length`, the ones the user vector is built from."""
    import pandas as pd

    frame = cat.interactions
    rows = frame[(frame["user_id"] == user_id) & (frame["split"].isin(earlier_splits(split)))]
    out = []
    for n, row in enumerate(rows.itertuples(index=False)):
        aspects = cat.aspects_of(user_id, row.item_id)
        out.append(
            {
                "date": _date(row.timestamp),
                "item_id": row.item_id,
                "title": cat.title(row.item_id),
                "rating": row.rating,
                "review": snippet(f"{row.title}. {row.text}" if row.title else row.text),
                "aspects": aspects.aspects.as_text() if aspects and aspects.kept else "",
                "in_profile": n >= len(rows) - length,
            }
        )
    columns = ["date", "title", "rating", "review", "aspects", "in_profile", "item_id"]
    return pd.DataFrame(out, columns=columns)


def movement(cf_rank: int | None, new_rank: int) -> str:
    """'▲ 3' when the item moved up three places from its CF rank, '▼ 2' down, '=' unchanged."""
    if cf_rank is None:
        return ""
    delta = cf_rank - new_rank
    return "=" if delta == 0 else (f"▲ {delta}" if delta > 0 else f"▼ {-delta}")


def _backend(records: dict[str, PersonaRecord], item_id: str) -> str:
    record = records.get(item_id)
    return record.backend if record else ""


def reranked_frame(
    cat: Catalogue, ranked: Sequence[RankedItem], target: str | None, variant: str = "multi"
) -> pd.DataFrame:
    """One row per candidate in its new order: ranks and movement, the winning persona (name, description,
    rationale) with its similarity and the backend that wrote it; `held_out` marks the test item."""
    import pandas as pd

    records = cat.personas_single if variant == "single" else cat.personas
    rows = []
    for r in ranked:
        persona = r.persona
        rows.append(
            {
                "new_rank": r.new_rank,
                "cf_rank": r.cf_rank,
                "move": movement(r.cf_rank, r.new_rank),
                "held_out": r.item_id == target,
                "item_id": r.item_id,
                "title": cat.title(r.item_id),
                "persona": persona.name if persona else "",
                "similarity": round(r.persona_sim, 4),
                "description": persona.description if persona else "",
                "rationale": persona.preference_rationale if persona else "",
                "note": r.fallback or "",
                "made_by": _backend(records, r.item_id),
                "moved_by": moved_by(r),
            }
        )
    columns = [
        "new_rank",
        "move",
        "cf_rank",
        "held_out",
        "title",
        "persona",
        "similarity",
        "description",
        "rationale",
        "item_id",
        "note",
        "made_by",
    ]
    if any(r.contributions for r in ranked):
        columns.insert(3, "moved_by")
    return pd.DataFrame(rows, columns=columns)


def moved_by(ranked: RankedItem) -> str:
    """With a learned ranker: the features that moved the item most, e.g. 'persona_max_z 1.2 (+0.31)'."""
    return "; ".join(f"{name} {value:.3g} ({contribution:+.2f})" for name, value, contribution in ranked.contributions)


def persona_scores(cat: Catalogue, ranked: RankedItem, variant: str = "multi") -> pd.DataFrame:
    """Every persona of one candidate with its similarity to the user; `winner` marks the arg-max."""
    import pandas as pd

    records = cat.personas_single if variant == "single" else cat.personas
    record = records.get(ranked.item_id)
    names = {p.id: p.name for p in record.personas} if record else {}
    prefix = f"{ranked.item_id}_"
    rows = []
    for key, sim in ranked.persona_scores.items():
        persona_id = key[len(prefix) :] if key.startswith(prefix) else key
        rows.append(
            {
                "persona_key": key,
                "persona_id": persona_id,
                "name": names.get(persona_id, persona_id),
                "similarity": float(sim),
                "winner": key == ranked.persona_key,
            }
        )
    frame = pd.DataFrame(rows, columns=["persona_key", "persona_id", "name", "similarity", "winner"])
    return frame.sort_values("similarity", ascending=False, kind="stable").reset_index(drop=True)
