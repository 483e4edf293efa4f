"""The paper authors' gpt-4o-mini artifacts as a workspace, and a workspace back as their files.

`import_authors(folder, out)` reads one domain folder (authors/files.py), writes the data
tables through the data importer's `build_workspace` (k-core off: the 50-line sample files barely
overlap, so everything is kept and the coverage is reported instead), then the offline records as if
our pipeline had made them, labeled backend="authors:gpt-4o-mini": offline/summaries.jsonl,
aspects.jsonl, personas.jsonl and alignment.jsonl, each stage recorded in the manifest.

Beside the agreed files, two things the authors' files carry and our tables have no column for are
kept so an export gives them back: data/authors_items.parquet (metadata of items that have summaries
or personas but no review in the sample: the items table holds reviewed items only) and
data/authors_review_ids.parquet; offline/authors_selections.jsonl keeps the full selected persona of
each judge decision (most selections in the sample name items whose persona sets are not in it).

An export also writes persona4rec_origin.json beside the files, naming the backend that made each
stage's records; importing such a folder keeps those labels (records our extractive backend made stay
labeled as such), while a folder without it (the authors' own) is labeled authors:gpt-4o-mini.

`export_authors(ws, folder)` writes any workspace (imported or built by our pipeline) as the nine
authors' files with exactly their keys; the held-out item of each user is our leave-one-out test item.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import InputError, WorkspaceError
from ..io import JsonlLog, write_json, write_jsonl
from ..offline.records import load_alignment, load_aspects, load_personas, load_summaries, stage_path
from ..offline.schema import AlignmentRecord, AspectRecord, AspectTuple, Persona, PersonaRecord, SummaryRecord
from ..workspace import Workspace, utc_now
from .files import ORIGIN, SLOT_FIELDS, AuthorsArtifacts, Origin, ReviewObs, read_authors_dir, write_authors_dir

AUTHORS_ITEMS = "authors_items"
AUTHORS_REVIEW_IDS = "authors_review_ids"
SELECTIONS_FILE = "authors_selections.jsonl"
ORIGIN_FILE = "persona4rec_origin.json"  # beside the exported files: who made the records
STAGES = ("summaries", "aspects", "personas", "alignment")


# -- validation into our records -----------------------------------------------------------------


def _validated(model, data: dict[str, Any], origin: Origin | None, what: str):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        message = f"{what}: {first['msg']}"
        if origin is None:
            raise InputError(message, field=loc) from None
        raise origin.error(message, loc) from None


def summary_records(art: AuthorsArtifacts, backend: str = ORIGIN) -> list[SummaryRecord]:
    return [
        _validated(
            SummaryRecord,
            {"item_id": item_id, "summary": text, "source": "metadata", "backend": backend},
            origin,
            "item summary",
        )
        for item_id, (text, origin) in art.summaries.items()
    ]


def aspect_records(art: AuthorsArtifacts, backend: str = ORIGIN) -> list[AspectRecord]:
    records = []
    for obs in art.reviews.values():
        if obs.aspects is None:
            continue
        aspects = _validated(AspectTuple, obs.aspects, obs.origin, "extracted aspects")
        records.append(
            AspectRecord(
                user_id=obs.user_id,
                item_id=obs.item_id,
                aspects=aspects,
                null_fraction=aspects.null_fraction(),
                kept=aspects.usable(),
                backend=backend,
            )
        )
    return records


def persona_records(art: AuthorsArtifacts, backend: str = ORIGIN) -> list[PersonaRecord]:
    records = []
    for item_id, (personas, origin) in art.personas.items():
        checked = [_validated(Persona, p, origin, f"persona {i + 1}") for i, p in enumerate(personas)]
        ids = [p.id for p in checked]
        if not checked or len(set(ids)) != len(ids):
            raise (origin.error if origin else InputError)(
                f"persona IDs must be present and unique, got {ids}", "personas"
            )
        records.append(PersonaRecord(item_id=item_id, mode="multi", personas=checked, backend=backend))
    return records


def alignment_records(art: AuthorsArtifacts, backend: str = ORIGIN) -> list[AlignmentRecord]:
    return [
        _validated(
            AlignmentRecord,
            {
                "user_id": s["user_id"],
                "item_id": s["item_id"],
                "persona_id": s["persona"]["id"],
                "justification": s["justification"],
                "backend": backend,
            },
            s.get("origin"),
            "selection",
        )
        for s in art.selections
    ]


# -- data tables ---------------------------------------------------------------------------------


def _yelp_categories(description: str) -> list[str]:
    """Yelp items' descriptions are the business record as JSON; its categories become ours."""
    try:
        record = json.loads(description)
    except (ValueError, TypeError):
        return []
    categories = record.get("categories") if isinstance(record, dict) else None
    return [c.strip() for c in categories.split(",") if c.strip()] if isinstance(categories, str) else []


def _item_rows(art: AuthorsArtifacts) -> list[dict[str, Any]]:
    rows = []
    for item_id, item in art.items.items():
        attributes = {"review_count": item["review_count"]} if item.get("review_count") is not None else {}
        rows.append(
            {
                "item_id": item_id,
                "title": item["title"],
                "description": item["description"],
                "categories": _yelp_categories(item["description"]) if art.dialect == "yelp" else [],
                "attributes": attributes,
            }
        )
    return rows


def _tables(art: AuthorsArtifacts):
    """(reviews, items, extra tables) for build_workspace."""
    import pandas as pd

    from ..data.cleaning import clean_items
    from ..data.schema import as_items, items_to_disk

    reviews = pd.DataFrame(
        [
            {
                "user_id": r.user_id,
                "item_id": r.item_id,
                "rating": float("nan") if r.rating is None else r.rating,
                "title": r.title or "",
                "text": r.text or "",
                "timestamp": r.timestamp,
            }
            for r in art.reviews.values()
        ],
        columns=["user_id", "item_id", "rating", "title", "text", "timestamp"],
    )
    items = as_items(
        pd.DataFrame(_item_rows(art), columns=["item_id", "title", "description", "categories", "attributes"])
    )
    reviewed = set(reviews["item_id"])
    unreviewed, _ = clean_items(items[~items["item_id"].isin(reviewed)])
    review_ids = pd.DataFrame(
        [
            {"user_id": r.user_id, "item_id": r.item_id, "review_id": r.review_id}
            for r in art.reviews.values()
            if r.review_id is not None
        ],
        columns=["user_id", "item_id", "review_id"],
    ).astype("string")
    return reviews, items, {AUTHORS_ITEMS: items_to_disk(unreviewed), AUTHORS_REVIEW_IDS: review_ids}


def coverage(art: AuthorsArtifacts) -> dict[str, Any]:
    """How much the files cover each other (the sample's 50-line files mostly do not)."""
    reviewed_items = {i for (_, i) in art.reviews}
    users = {u for (u, _) in art.reviews}
    persona_ids = {item: {p["id"] for p in personas} for item, (personas, _) in art.personas.items()}
    latest = {}
    for r in art.reviews.values():
        if r.user_id not in latest or r.timestamp > latest[r.user_id][0]:
            latest[r.user_id] = (r.timestamp, r.item_id)
    return {
        "reviews": len(art.reviews),
        "reviews_with_text": sum(bool(r.text) for r in art.reviews.values()),
        "reviews_with_aspects": sum(r.aspects is not None for r in art.reviews.values()),
        "users": len(users),
        "items_reviewed": len(reviewed_items),
        "items_with_metadata": sum(bool(i["title"] or i["description"]) for i in art.items.values()),
        "items_with_summary": len(art.summaries),
        "items_with_personas": len(art.personas),
        "reviewed_items_with_summary": len(reviewed_items & set(art.summaries)),
        "reviewed_items_with_personas": len(reviewed_items & set(art.personas)),
        "selections": len(art.selections),
        "selections_item_has_personas": sum(s["item_id"] in persona_ids for s in art.selections),
        "selections_persona_in_item_personas": sum(
            s["persona"]["id"] in persona_ids.get(s["item_id"], ()) for s in art.selections
        ),
        "selections_user_has_reviews": sum(s["user_id"] in users for s in art.selections),
        "held_out": len(art.held_out),
        "held_out_reviewed": sum((u, i) in art.reviews for u, i in art.held_out.items()),
        "held_out_is_latest_review": sum(latest.get(u, (0, None))[1] == i for u, i in art.held_out.items()),
    }


# -- import --------------------------------------------------------------------------------------


def _write_stage(ws: Workspace, stage: str, records: list, source: Path, counts: dict[str, int], backend: str) -> None:
    with ws.stage(stage, backend=backend, origin=backend, imported_from=str(source)) as info:
        write_jsonl(stage_path(ws, stage), [r.model_dump() for r in records])
        info["counts"] = counts


def read_origins(folder: Path) -> dict[str, str]:
    """Backend label per stage: from the sidecar our export writes (so records made by our extractive or
    LLM backends keep their label through an export and back), else the authors' gpt-4o-mini."""
    labels = {stage: ORIGIN for stage in STAGES}
    path = folder / ORIGIN_FILE
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8")).get("backends", {})
        except (ValueError, AttributeError) as exc:
            raise InputError(f"not a JSON object ({exc})", path=path) from None
        for stage in STAGES:
            value = stored.get(stage)
            if value is not None and not (isinstance(value, str) and value):
                raise InputError("expected a non-empty backend label", path=path, field=f"backends.{stage}")
            labels[stage] = value or ORIGIN
    return labels


def import_authors(
    folder: str | Path, out: str | Path, *, overwrite: bool = False, skip_bad_lines: bool = False
) -> Workspace:
    """One workspace from one authors' folder (e.g. .../persona4rec-authors-sample/amazon)."""
    from ..data.importer import build_workspace

    folder = Path(folder)
    art = read_authors_dir(folder, skip_bad_lines=skip_bad_lines)
    if not art.reviews:
        raise InputError(
            "the folder has no review (1_aspects, 2.5_grouped or 3.5_history lines): a workspace needs interactions",
            path=folder,
        )
    labels = read_origins(folder)
    # validate everything before anything is written
    summaries, aspects = summary_records(art, labels["summaries"]), aspect_records(art, labels["aspects"])
    personas, alignment = persona_records(art, labels["personas"]), alignment_records(art, labels["alignment"])
    reviews, items, extra = _tables(art)
    report = {**art.report, "coverage": coverage(art), "backends": labels}
    ws = build_workspace(
        out,
        reviews,
        items,
        kcore=0,
        report=report,
        inputs=art.inputs,
        source=f"authors:{art.dialect}",
        extra_tables=extra,
        overwrite=overwrite,
    )
    try:
        _write_stage(ws, "summaries", summaries, folder, {"items": len(summaries)}, labels["summaries"])
        _write_stage(
            ws,
            "aspects",
            aspects,
            folder,
            {
                "reviews": len(aspects),
                "kept": sum(a.kept for a in aspects),
                "dropped_over_75pct_null": sum(not a.kept for a in aspects),
            },
            labels["aspects"],
        )
        _write_stage(
            ws,
            "personas",
            personas,
            folder,
            {"items": len(personas), "personas": sum(len(p.personas) for p in personas)},
            labels["personas"],
        )
        _write_stage(ws, "alignment", alignment, folder, {"interactions": len(alignment)}, labels["alignment"])
        write_jsonl(
            ws.offline_dir / SELECTIONS_FILE,
            [{"user_id": s["user_id"], "item_id": s["item_id"], "persona": s["persona"]} for s in art.selections],
        )
        ws.update_manifest(
            authors={
                "origin": labels,
                "dialect": art.dialect,
                "folder": str(folder.resolve()),
                "coverage": report["coverage"],
            }
        )
    except BaseException:
        shutil.rmtree(ws.root, ignore_errors=True)  # no half-imported workspace is left behind
        raise
    return ws


# -- export --------------------------------------------------------------------------------------


def _read_table(ws: Workspace, name: str):
    import pandas as pd

    path = ws.data_dir / f"{name}.parquet"
    return pd.read_parquet(path) if path.exists() else None


def unreviewed_items(ws: Workspace):
    """Canonical items that have summaries or personas but no review in an authors' sample (None for any
    other workspace): the app browses them beside the reviewed ones."""
    from ..data.schema import items_from_disk

    frame = _read_table(ws, AUTHORS_ITEMS)
    return None if frame is None else items_from_disk(frame)


def workspace_artifacts(ws: Workspace) -> tuple[AuthorsArtifacts, dict[str, int]]:
    """A workspace's tables and offline records in the authors' vocabulary (and what had to be left out)."""
    from ..data.importer import load_workspace_tables
    from ..data.schema import items_from_disk, review_key

    reviews, items, split = load_workspace_tables(ws)
    art = AuthorsArtifacts(dialect=(ws.manifest().get("authors") or {}).get("dialect", "amazon"))
    skipped = {"selections_without_persona_text": 0}
    ids = _read_table(ws, AUTHORS_REVIEW_IDS)
    review_ids = (
        {}
        if ids is None
        else {(u, i): r for u, i, r in ids[["user_id", "item_id", "review_id"]].itertuples(index=False)}
    )
    aspects = load_aspects(ws) if stage_path(ws, "aspects").exists() else {}
    for r in reviews.itertuples(index=False):
        rec = aspects.get(review_key(r.user_id, r.item_id))
        art.reviews[(r.user_id, r.item_id)] = ReviewObs(
            user_id=r.user_id,
            item_id=r.item_id,
            rating=None if r.rating != r.rating else float(r.rating),
            timestamp=int(r.timestamp),
            title=r.title,
            text=r.text,
            review_id=review_ids.get((r.user_id, r.item_id)),
            aspects=None if rec is None else {f: getattr(rec.aspects, f) for f in SLOT_FIELDS},
        )
    extra_items = _read_table(ws, AUTHORS_ITEMS)
    all_items = [items] + ([items_from_disk(extra_items)] if extra_items is not None else [])
    for frame in all_items:
        for row in frame.itertuples(index=False):
            if row.title or row.description or "review_count" in row.attributes:
                art.items[row.item_id] = {
                    "title": row.title,
                    "description": row.description,
                    "review_count": row.attributes.get("review_count"),
                }
    if stage_path(ws, "summaries").exists():
        art.summaries = {k: (r.summary, None) for k, r in load_summaries(ws).items()}
    if stage_path(ws, "personas").exists():
        art.personas = {k: ([p.model_dump() for p in r.personas], None) for k, r in load_personas(ws).items()}
    art.held_out = {u: i for u, i, s in split.itertuples(index=False) if s == "test"}
    if stage_path(ws, "alignment").exists():
        stored = {(s["user_id"], s["item_id"]): s["persona"] for s in JsonlLog(ws.offline_dir / SELECTIONS_FILE).read()}
        for rec in load_alignment(ws).values():
            personas = {p["id"]: p for p in art.personas.get(rec.item_id, ([], None))[0]}
            persona = personas.get(rec.persona_id) or stored.get((rec.user_id, rec.item_id))
            if persona is None or persona["id"] != rec.persona_id:
                skipped["selections_without_persona_text"] += 1
                continue
            art.selections.append(
                {"user_id": rec.user_id, "item_id": rec.item_id, "persona": persona, "justification": rec.justification}
            )
    return art, skipped


def export_authors(
    ws: Workspace | str | Path,
    out: str | Path,
    *,
    dialect: str | None = None,
    gzip_files: bool = False,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write workspace `ws` as the authors' files in folder `out`; returns lines per file and skips."""
    ws = ws if isinstance(ws, Workspace) else Workspace.open(ws)
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise WorkspaceError(f"{out}: exists and is not empty (pass --overwrite to write into it)")
    art, skipped = workspace_artifacts(ws)
    counts = write_authors_dir(art, out, dialect=dialect, gzip_files=gzip_files)
    backends = stage_backends(ws)
    write_json(out / ORIGIN_FILE, {"backends": backends, "workspace": str(ws.root.resolve()), "exported": utc_now()})
    return {"dialect": dialect or art.dialect, "lines": counts, "left_out": skipped, "backends": backends}


def stage_backends(ws: Workspace) -> dict[str, str | None]:
    """The backend label of each stage's records ("a+b" if a stage holds records of several)."""
    out: dict[str, str | None] = {}
    for stage in STAGES:
        path = stage_path(ws, stage)
        labels = sorted({r.get("backend") for r in JsonlLog(path).read()} - {None}) if path.exists() else []
        out[stage] = "+".join(labels) or None
    return out
