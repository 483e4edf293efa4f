"""Single- vs multi-persona: both rankings of one user side by side, and the workspace's metric tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..evaluation.report import read_metrics
from ..offline.persona_text import persona_explanation
from ..workspace import Workspace
from .catalogue import Catalogue
from .explore import movement

if TYPE_CHECKING:
    import pandas as pd

    from ..rerank import RankedItem


def explanation_text(ranked: RankedItem | None) -> str:
    """The explanation a reranked item carries: its winning persona as a person reads it ("" for none)."""
    if ranked is None or ranked.persona is None:
        return ""
    return persona_explanation(ranked.persona)


def side_by_side(
    cat: Catalogue, multi: Sequence[RankedItem], single: Sequence[RankedItem], target: str | None
) -> pd.DataFrame:
    """One row per candidate: its rank and explanation under each index, in the multi-persona order."""
    import pandas as pd

    single_by_item = {r.item_id: r for r in single}
    rows = []
    for m in multi:
        s = single_by_item.get(m.item_id)
        rows.append(
            {
                "item_id": m.item_id,
                "title": cat.title(m.item_id),
                "held_out": m.item_id == target,
                "cf_rank": m.cf_rank,
                "multi_rank": m.new_rank,
                "multi_move": movement(m.cf_rank, m.new_rank),
                "multi_persona": m.persona.name if m.persona else "",
                "multi_similarity": round(m.persona_sim, 4),
                "single_rank": s.new_rank if s else None,
                "single_move": movement(s.cf_rank, s.new_rank) if s else "",
                "single_persona": s.persona.name if s and s.persona else "",
                "single_similarity": round(s.persona_sim, 4) if s else None,
                "multi_explanation": explanation_text(m),
                "single_explanation": explanation_text(s),
            }
        )
    return pd.DataFrame(rows)


def _is_metric_block(value: Any) -> bool:
    """A dict of numbers with at least one cut-off metric (HR@10, NDCG@5, ...): one table row."""
    return (
        isinstance(value, dict)
        and any("@" in str(k) for k in value)
        and all(isinstance(v, (int, float)) or v is None for v in value.values())
    )


def metric_rows(metrics: dict[str, Any], path: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Every metric block in metrics.json, wherever it is nested, as {"where": "a / b", **metrics}."""
    rows: list[dict[str, Any]] = []
    for key, value in metrics.items():
        here = path + (str(key),)
        if _is_metric_block(value):
            rows.append({"where": " / ".join(here), **value})
        elif isinstance(value, dict):
            rows.extend(metric_rows(value, here))
    return rows


def metric_tables(ws: Workspace) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(overall rows, segment rows) from reports/metrics.json; both empty when there is no report."""
    import pandas as pd

    rows = metric_rows(read_metrics(ws))
    overall = [r for r in rows if "segment" not in r["where"]]
    segments = [r for r in rows if "segment" in r["where"]]
    return pd.DataFrame(overall), pd.DataFrame(segments)
