"""Stage 2, aspects: one aspect tuple per review with text, in all splits.

Held-out reviews are extracted too (valid aspects are history at test time); the persona pools (stage 3)
use TRAIN reviews only, so held-out targets never shape personas. A tuple with more than 75% null slots is
stored with kept=False (the paper drops it), so later stages skip it and a re-run does not redo it.
"""

from __future__ import annotations

from ...data.schema import review_key
from ...data.tables import Tables, load_tables
from ...workspace import Workspace
from ..backend import ReviewInput
from ..engine import RunOptions, StageReport, StageSpec, Unit, execute, first_ids
from ..schema import AspectRecord, AspectTuple
from .inputs import review_input


def _scoped_reviews(tables: Tables, items: int | None, users: int | None):
    """The reviews of the first `items` items and the first `users` users (all when None)."""
    reviews = tables.reviews
    if items is not None:
        reviews = reviews[reviews["item_id"].isin(first_ids(tables.items["item_id"], items))]
    if users is not None:
        reviews = reviews[reviews["user_id"].isin(first_ids(tables.reviews["user_id"], users))]
    return reviews


def run_aspects(ws: Workspace, backend, *, items: int | None = None, users: int | None = None, **opts) -> StageReport:
    """Stage 2: an aspect tuple per review with text (all splits); >75%-null tuples stored as kept=False."""
    options = RunOptions.from_opts(opts)
    tables = load_tables(ws)
    titles = tables.titles()
    reviews = _scoped_reviews(tables, items, users)
    textless = int(reviews["textless"].sum())
    reviews = reviews[~reviews["textless"]].sort_values(["user_id", "item_id"])
    units = [
        Unit(review_key(str(r.user_id), str(r.item_id)), review_input(r, titles))
        for r in reviews.itertuples(index=False)
    ]
    units.sort(key=lambda u: u.key)

    def to_record(payload: ReviewInput, value: AspectTuple):
        kept = value.usable()
        record = AspectRecord(
            user_id=payload.user_id,
            item_id=payload.item_id,
            aspects=value,
            null_fraction=value.null_fraction(),
            kept=kept,
            backend="",
        ).model_dump()
        return record, None, {"dropped": 0 if kept else 1}

    spec = StageSpec("aspects", "aspects", "extract_aspects", to_record, config={"items": items, "users": users})
    return execute(ws, backend, spec, units, options, {"textless_reviews": textless} if textless else None)
