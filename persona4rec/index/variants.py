"""Which vectors an index variant holds, as rows of (item, persona, text).

    multi      every persona of offline/personas.jsonl (the paper's method, default)
    single     the one aggregated persona per item of offline/personas_single.jsonl
    summary    one row per item, e_i = E(summary): the summary-only index
    first-k    the first k personas of each item (k = 1, 3, 5, 7 in the paper's ablation)

Every catalogue item gets at least one row, so every candidate can be scored: an item without a persona
record is represented by its summary (source "summary-fallback"); an item the offline stage could only
describe by its summary keeps that persona (source "summary-only", from PersonaRecord.summary_only).
"""

from __future__ import annotations

import re

from ..data.tables import item_titles
from ..errors import ConfigError, WorkspaceError
from ..offline.persona_text import persona_text
from ..offline.records import load_personas, load_summaries, stage_path
from ..offline.schema import persona_key
from ..workspace import Workspace

BASE_VARIANTS = ("multi", "single", "summary")
PAPER_FIRST_K = (1, 3, 5, 7)  # the first-k ablation of the paper (Table 10)
SUMMARY_PERSONA_ID = "summary"
ENTRY_COLUMNS = [
    "item_id",
    "persona_id",
    "persona_key",
    "name",
    "description",
    "preference_rationale",
    "source",
    "text",
]


def parse_variant(variant: str) -> tuple[str, int | None]:
    """("multi", None), ("first", 3), ... ; a clear error for anything else."""
    if variant in BASE_VARIANTS:
        return variant, None
    match = re.fullmatch(r"first-(\d+)", variant)
    if match and int(match.group(1)) >= 1:
        return "first", int(match.group(1))
    raise ConfigError(f"index variant '{variant}' is not one of {', '.join(BASE_VARIANTS)} or first-K (K >= 1)")


def _catalogue(ws: Workspace) -> tuple[list[str], dict[str, str]]:
    import pandas as pd

    path = ws.data_dir / "items.parquet"
    if not path.exists():
        raise WorkspaceError(f"{path} is missing; import data first (`persona4rec data import ...`)")
    items = pd.read_parquet(path, columns=["item_id", "title"])
    return items["item_id"].astype(str).tolist(), item_titles(items)


def _summary_row(item_id: str, summary: str, source: str) -> dict:
    return {
        "item_id": item_id,
        "persona_id": SUMMARY_PERSONA_ID,
        "persona_key": persona_key(item_id, SUMMARY_PERSONA_ID),
        "name": "Item summary",
        "description": summary,
        "preference_rationale": "",
        "source": source,
        "text": summary,
    }


def variant_entries(ws: Workspace, variant: str = "multi", text_mode: str = "full"):
    """The index rows of `variant` as a DataFrame with ENTRY_COLUMNS, items in catalogue order."""
    import pandas as pd

    kind, k = parse_variant(variant)
    item_ids, titles = _catalogue(ws)
    summaries = {i: r.summary for i, r in load_summaries(ws).items()}
    summary_of = lambda i: summaries.get(i) or titles.get(i) or i  # noqa: E731
    rows: list[dict] = []
    if kind == "summary":
        rows = [_summary_row(i, summary_of(i), "summary") for i in item_ids]
        return pd.DataFrame(rows, columns=ENTRY_COLUMNS)
    single = kind == "single"
    if not stage_path(ws, "personas_single" if single else "personas").exists():
        raise WorkspaceError(
            f"{ws.root}: {stage_path(ws, 'personas_single' if single else 'personas')} is missing; "
            "run the offline personas stage first"
        )
    records = load_personas(ws, single=single)
    known = set(item_ids)
    for item_id in item_ids + [i for i in records if i not in known]:
        record = records.get(item_id)
        if record is None or not record.personas:
            rows.append(_summary_row(item_id, summary_of(item_id), "summary-fallback"))
            continue
        personas = record.personas[:k] if k else record.personas
        for persona in personas:
            rows.append(
                {
                    "item_id": item_id,
                    "persona_id": persona.id,
                    "persona_key": persona_key(item_id, persona.id),
                    "name": persona.name,
                    "description": persona.description,
                    "preference_rationale": persona.preference_rationale,
                    "source": "summary-only" if record.summary_only else "persona",
                    "text": persona_text(persona, text_mode),
                }
            )
    return pd.DataFrame(rows, columns=ENTRY_COLUMNS)
