"""`persona4rec offline status WS`: what the offline stages have made, checked, in one screen.

For each stage: its manifest status, the backend labels on its records, records and open failures, the
LLM cost it recorded, the engine its last run used (local, or ray with its workers). Then the checks a
user (and the issue's "done") cares about: every record parses under the stage's schema (the loaders
validate each one), how many personas each item has (1-7 allowed), which items are summary-only, and how
much of the train split the alignment covers.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..data.schema import review_key
from ..workspace import Workspace
from .records import STAGE_FILES, load_alignment, load_failures, load_personas, read_raw, stage_path
from .schema import MAX_PERSONAS


def _stage_rows(ws: Workspace) -> list[dict[str, Any]]:
    failed: dict[str, set[str]] = {}
    for f in load_failures(ws):
        failed.setdefault(f.stage, set()).add(f.key)
    rows = []
    for stage in STAGE_FILES:
        info = ws.stage_info(stage) or {}
        records = read_raw(ws, stage) if stage_path(ws, stage).exists() else {}
        backends = Counter(r.get("backend", "") for r in records.values() if r.get("backend"))
        open_failures = failed.get(stage, set()) - records.keys()  # a later retry may have answered one
        rows.append(
            {
                "stage": stage,
                "status": info.get("status", "not run"),
                "records": len(records),
                "failures_open": len(open_failures),
                "backends": dict(backends),
                "seconds": info.get("seconds"),
                "cost_usd": (info.get("usage") or {}).get("cost_usd", 0.0),
                "engine": _engine_label(info.get("engine")),
            }
        )
    return rows


def _engine_label(engine: dict | None) -> str | None:
    """ "local", "ray x2" (two workers), or None for a stage without a backend or never run."""
    if not engine:
        return None
    return f"ray x{engine.get('workers')}" if engine.get("name") == "ray" else engine.get("name")


def _persona_check(records: dict | None, items: set[str]) -> dict[str, Any] | None:
    if records is None:
        return None
    sizes = Counter(len(r.personas) for r in records.values())
    return {
        "items_with_personas": len(records),
        "items": len(items),
        "items_missing": len(items - set(records)),
        "personas": sum(k * n for k, n in sizes.items()),
        "per_item": dict(sorted(sizes.items())),
        "within_1_to_7": all(1 <= k <= MAX_PERSONAS for k in sizes),
        "summary_only": sum(r.summary_only for r in records.values()),
    }


def _alignment_check(ws: Workspace, split, personas: dict | None) -> dict[str, Any] | None:
    if not stage_path(ws, "alignment").exists():
        return None
    aligned = load_alignment(ws)
    train = split[split["split"] == "train"]
    item_of = {review_key(u, i): i for u, i in zip(train["user_id"], train["item_id"])}
    keys = set(item_of)
    with_personas = {k for k, item_id in item_of.items() if personas is None or item_id in personas}
    valid_ids = sum(
        1
        for r in aligned.values()
        if personas is not None
        and r.item_id in personas
        and r.persona_id in {p.id for p in personas[r.item_id].personas}
    )
    return {
        "train_interactions": len(keys),
        "with_personas": len(with_personas),
        "aligned": len(aligned.keys() & keys),
        "persona_ids_valid": valid_ids,
        "covers_all_with_personas": with_personas <= aligned.keys(),
    }


def _typed_personas(ws: Workspace, single: bool) -> dict | None:
    """Every record validated against PersonaRecord on reading; None when the stage has not run."""
    stage = "personas_single" if single else "personas"
    return load_personas(ws, single=single) if stage_path(ws, stage).exists() else None


def offline_status(ws: Workspace) -> dict[str, Any]:
    from ..data.importer import load_workspace_tables

    _, items, split = load_workspace_tables(ws)
    item_ids = set(items["item_id"].astype(str))
    personas = _typed_personas(ws, single=False)
    return {
        "workspace": str(ws.root),
        "stages": _stage_rows(ws),
        "personas": _persona_check(personas, item_ids),
        "personas_single": _persona_check(_typed_personas(ws, single=True), item_ids),
        "alignment": _alignment_check(ws, split, personas),
    }


def status_lines(status: dict[str, Any]) -> list[str]:
    # seconds and cost are the stage's LAST run (a resumed run that found everything done shows ~0)
    lines = [
        f"workspace {status['workspace']}",
        f"{'stage':<16} {'status':<9} {'records':>8} {'failed':>7} {'last s':>8} {'cost $':>8} {'engine':<8} backend",
    ]
    for r in status["stages"]:
        seconds = f"{r['seconds']:.1f}" if r["seconds"] is not None else "-"
        backends = ", ".join(f"{b} ({n})" if len(r["backends"]) > 1 else b for b, n in r["backends"].items()) or "-"
        lines.append(
            f"{r['stage']:<16} {r['status']:<9} {r['records']:>8,} {r['failures_open']:>7} "
            f"{seconds:>8} {r['cost_usd']:>8.4f} {r['engine'] or '-':<8} {backends}"
        )
    for name in ("personas", "personas_single"):
        p = status[name]
        if p is not None:
            sizes = " ".join(f"{k}:{n}" for k, n in p["per_item"].items())
            lines.append(
                f"{name}: {p['items_with_personas']:,} of {p['items']:,} items, {p['personas']:,} personas; "
                f"per item {sizes} ({'all within 1-7' if p['within_1_to_7'] else 'OUT OF 1-7'}); "
                f"summary-only {p['summary_only']}; schema-valid (every record parsed)"
            )
    a = status["alignment"]
    if a is not None:
        lines.append(
            f"alignment: {a['aligned']:,} of {a['train_interactions']:,} train interactions aligned "
            f"({a['with_personas']:,} have an item with personas; "
            f"{'all covered' if a['covers_all_with_personas'] else 'NOT all covered'}); "
            f"{a['persona_ids_valid']:,} name a persona of their item"
        )
    return lines
