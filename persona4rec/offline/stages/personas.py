"""Stage 3, personas: 1-`max_personas` personas per item from its summary and its TRAIN aspect pool.

Only TRAIN reviews feed a pool, so held-out targets never shape personas. An item with no usable train
aspect gets one persona made from its summary (`summary_only=True`) without a backend call. An item whose
summary failed goes on under its title; one the summaries stage never reached means it has not run.
Single mode (the paper's single-persona variant) writes one aggregated persona per item to
offline/personas_single.jsonl.
"""

from __future__ import annotations

from ...data.tables import Tables, load_tables
from ...errors import ConfigError, WorkspaceError
from ...workspace import Workspace
from ..backend import PersonaRequest, ReviewInput
from ..engine import RunOptions, StageReport, StageSpec, Unit, execute, first_ids
from ..records import load_aspects, load_failures, load_summaries
from ..schema import MAX_PERSONAS, AspectRecord, AspectTuple, Persona, PersonaRecord, PersonaSet
from ..text import as_text
from .inputs import review_input
from .stand_ins import stand_in_aspects, stand_in_summary

Pool = tuple[list[ReviewInput], list[AspectTuple]]  # an item's train reviews and their kept tuples, in order


def summary_only_persona(summary: str, title: str) -> Persona:
    """The one persona of an item no review gave usable evidence for: its summary, labelled as such."""
    label = title.strip() or "this item"
    return Persona(
        id="P1",
        name=f"Summary-only: {label[:60]}",
        description=summary,
        preference_rationale="No review of this item gave usable evidence, so it is described by "
        "its summary alone (summary-only index).",
    )


def _check_summaries_ran(ws: Workspace, item_ids: list[str], summaries: dict, failed: set[str]) -> None:
    unrun = [i for i in item_ids if i not in summaries and i not in failed]
    if unrun:
        raise WorkspaceError(
            f"{ws.root}: {len(unrun)} item(s) have no summary (e.g. {unrun[0]}); "
            f"run `persona4rec offline summarize {ws.root}` first"
        )


def _aspect_pools(
    tables: Tables, item_ids: list[str], aspects: dict[str, AspectRecord], dry_run: bool
) -> tuple[dict[str, Pool], int]:
    """Each item's pool of train reviews with kept aspects, and how many train reviews had no aspect record
    (a dry run stands in for them, so it estimates what a real run after the aspects stage will send)."""
    titles = tables.titles()
    train = tables.train
    train = train[~train["textless"] & train["item_id"].isin(item_ids)].sort_values(["item_id", "user_id"])
    pools: dict[str, Pool] = {}
    not_extracted = 0
    for row in train.itertuples(index=False):
        review = review_input(row, titles)
        record = aspects.get(review.key)
        if record is None:
            not_extracted += 1
            if not dry_run:
                continue
            tuple_ = stand_in_aspects(review)
        elif not record.kept:
            continue
        else:
            tuple_ = record.aspects
        reviews, tuples = pools.setdefault(review.item_id, ([], []))
        reviews.append(review)
        tuples.append(tuple_)
    return pools, not_extracted


def _persona_requests(
    ws: Workspace, tables: Tables, item_ids: list[str], single: bool, max_personas: int, dry_run: bool
) -> tuple[list[Unit], dict[str, int]]:
    summaries = load_summaries(ws)
    aspects = load_aspects(ws)
    failed = {f.key for f in load_failures(ws, "summaries")}
    if not dry_run:
        _check_summaries_ran(ws, item_ids, summaries, failed)
        if not aspects:
            raise WorkspaceError(f"{ws.root}: no aspect records; run `persona4rec offline aspects {ws.root}` first")
    titles = tables.titles()
    item_rows = {str(r.item_id): r for r in tables.items.itertuples(index=False)}
    pools, not_extracted = _aspect_pools(tables, item_ids, aspects, dry_run)
    units, titled = [], 0
    for item_id in item_ids:
        if item_id in summaries:
            summary = summaries[item_id].summary
        elif item_id in failed:
            summary, titled = as_text(item_rows[item_id].title) or item_id, titled + 1
        else:
            summary = stand_in_summary(item_rows[item_id])
        reviews, tuples = pools.get(item_id, ([], []))
        request = PersonaRequest(
            item_id=item_id,
            item_title=titles.get(item_id, ""),
            summary=summary,
            reviews=reviews,
            aspects=tuples,
            single=single,
            max_personas=max_personas,
        )
        units.append(Unit(item_id, request))
    notes = {"train_reviews_without_aspects": not_extracted} if not_extracted else {}
    if titled:
        notes["failed_summaries_replaced_by_title"] = titled
    return units, notes


def run_personas(
    ws: Workspace, backend, *, single: bool = False, items: int | None = None, max_personas: int = MAX_PERSONAS, **opts
) -> StageReport:
    """Stage 3: 1-`max_personas` personas per item from its summary and its TRAIN aspect pool.

    Single mode writes one aggregated persona per item to offline/personas_single.jsonl."""
    options = RunOptions.from_opts(opts)
    if not 1 <= max_personas <= MAX_PERSONAS:
        raise ConfigError(f"max personas must be in [1, {MAX_PERSONAS}], got {max_personas}")
    tables = load_tables(ws)
    item_ids = first_ids(tables.items["item_id"], items)
    units, notes = _persona_requests(ws, tables, item_ids, single, max_personas, options.dry_run)
    limit = 1 if single else max_personas

    def local(request: PersonaRequest):
        if request.aspects:
            return None
        return PersonaSet(personas=[summary_only_persona(request.summary, request.item_title)])

    def to_record(request: PersonaRequest, value):
        personas = list(value.personas)
        if len(personas) > limit:
            return None, f"{len(personas)} personas returned, more than the allowed {limit}", {}
        evidence = {pid: list(keys) for pid, keys in (getattr(value, "evidence", None) or {}).items()}
        unknown = set(evidence) - {p.id for p in personas}
        if unknown:
            return None, f"evidence names unknown persona id(s) {sorted(unknown)}", {}
        summary_only = not request.aspects
        record = PersonaRecord(
            item_id=request.item_id,
            mode="single" if single else "multi",
            personas=personas,
            summary_only=summary_only,
            evidence=evidence,
            backend="",
        ).model_dump()
        return record, None, {"flagged": int(summary_only)}

    name = "personas_single" if single else "personas"
    spec = StageSpec(
        name,
        "personas",
        "generate_personas",
        to_record,
        local=local,
        config={"items": items, "max_personas": max_personas, "single": single},
    )
    return execute(ws, backend, spec, units, options, notes)
