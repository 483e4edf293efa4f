"""Stage 1, summaries: one 2-3 sentence summary per item.

From its metadata (description, categories, attributes); an item with none is summarised from up to
`MAX_SUMMARY_REVIEWS` of its TRAIN reviews (source "reviews"), an item with neither from its title
(source "title").
"""

from __future__ import annotations

from ...data.tables import Tables, load_tables
from ...workspace import Workspace
from ..backend import ItemInput
from ..engine import RunOptions, StageReport, StageSpec, Unit, execute, first_ids
from ..schema import SummaryRecord
from ..text import as_text

MAX_SUMMARY_REVIEWS = 10  # reviews read to summarise an item without metadata
SOURCES = ("metadata", "reviews", "title")


def has_metadata(item) -> bool:
    """Whether an items-table row has anything beyond its title to summarise."""
    return bool(as_text(item.description).strip() or len(item.categories) or len(item.attributes))


def summary_source(item_input: ItemInput) -> str:
    """What a summary of this input is made from: "metadata", "reviews" or "title"."""
    if as_text(item_input.description).strip() or item_input.categories or item_input.attributes:
        return "metadata"
    return "reviews" if item_input.review_texts else "title"


def _review_text(title: str, text: str) -> str:
    """Title and body as one text, the title its own sentence."""
    title = title.strip()
    if title and title[-1] not in ".!?":
        title += "."
    return f"{title} {text.strip()}".strip()


def _train_review_texts(tables: Tables) -> dict[str, list[str]]:
    """item_id -> the texts of its first `MAX_SUMMARY_REVIEWS` train reviews with text, oldest first."""
    train = tables.train
    train = train[~train["textless"]].sort_values(["item_id", "timestamp", "user_id"])
    texts_by_item: dict[str, list[str]] = {}
    for row in train.itertuples(index=False):
        texts = texts_by_item.setdefault(str(row.item_id), [])
        if len(texts) < MAX_SUMMARY_REVIEWS:
            texts.append(_review_text(as_text(row.title), as_text(row.text)))
    return texts_by_item


def _summary_units(tables: Tables, item_ids: list[str]) -> list[Unit]:
    texts_by_item = _train_review_texts(tables)
    wanted = set(item_ids)
    units = []
    for item in tables.items.sort_values("item_id").itertuples(index=False):
        item_id = str(item.item_id)
        if item_id not in wanted:
            continue
        payload = ItemInput(
            item_id=item_id,
            title=as_text(item.title),
            description=as_text(item.description),
            categories=list(item.categories),
            attributes=dict(item.attributes),
        )
        if not has_metadata(item):
            payload.review_texts = texts_by_item.get(item_id, [])
        units.append(Unit(item_id, payload))
    return units


def run_summaries(ws: Workspace, backend, *, items: int | None = None, **opts) -> StageReport:
    """Stage 1: one 2-3 sentence summary per item (from metadata, else its train reviews, else its title)."""
    options = RunOptions.from_opts(opts)
    tables = load_tables(ws)
    item_ids = first_ids(tables.items["item_id"], items)
    units = _summary_units(tables, item_ids)

    def to_record(payload: ItemInput, value):
        return (
            SummaryRecord(
                item_id=payload.item_id, summary=value.summary, source=summary_source(payload), backend=""
            ).model_dump(),
            None,
            {},
        )

    spec = StageSpec("summaries", "summarize", "summarize", to_record, config={"items": items})
    sources = [summary_source(u.payload) for u in units]
    notes = {"from_" + s: sources.count(s) for s in SOURCES if sources.count(s)}
    return execute(ws, backend, spec, units, options, notes)
