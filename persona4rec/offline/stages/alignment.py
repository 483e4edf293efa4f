"""Stage 5, alignment: for each TRAIN interaction (u, i), the persona of i that best explains u's choice.

The judge sees u's last L train interactions strictly before i (the profile entries of `train_histories`,
oldest first). An item with a single persona is aligned without a backend call (nothing to choose).
"""

from __future__ import annotations

from ...data.split import HISTORY_LENGTH
from ...data.tables import load_tables
from ...errors import WorkspaceError
from ...workspace import Workspace
from ..backend import AlignmentRequest
from ..engine import RunOptions, StageReport, StageSpec, Unit, execute, first_ids
from ..records import load_personas
from ..schema import AlignmentRecord, PersonaRecord, PersonaSelection, ProfileEntry
from .profiles import train_histories
from .stand_ins import stand_in_personas


def _single_persona_choice(request: AlignmentRequest) -> PersonaSelection | None:
    if len(request.personas) != 1:
        return None
    return PersonaSelection(
        persona_id=request.personas[0].id,
        justification="The item has a single persona, so it explains every choice of it.",
    )


def _to_record(request: AlignmentRequest, value):
    ids = [p.id for p in request.personas]
    if value.persona_id not in ids:
        return None, f"picked persona id {value.persona_id!r}, not one of {ids}", {}
    record = AlignmentRecord(
        user_id=request.user_id,
        item_id=request.item_id,
        persona_id=value.persona_id,
        justification=value.justification,
        backend="",
    ).model_dump()
    return record, None, {}


def _alignment_units(
    histories: dict[str, list[ProfileEntry]],
    personas: dict[str, PersonaRecord],
    titles: dict[str, str],
    in_scope: set[str] | None,
    history_length: int,
    dry_run: bool,
) -> tuple[list[Unit], int]:
    """One unit per train interaction in scope whose item has personas (a dry run stands in for missing
    personas), and the number of interactions skipped for want of personas."""
    units, without_personas = [], 0
    for user_id in sorted(histories):
        history = histories[user_id]
        for position, entry in enumerate(history):
            if in_scope is not None and entry.item_id not in in_scope:
                continue
            record = personas.get(entry.item_id)
            if record is None and not dry_run:
                without_personas += 1
                continue
            item_personas = record.personas if record is not None else stand_in_personas()
            request = AlignmentRequest(
                user_id=user_id,
                item_id=entry.item_id,
                item_title=titles.get(entry.item_id, ""),
                profile=history[max(0, position - history_length) : position],
                personas=list(item_personas),
            )
            units.append(Unit(request.key, request))
    return units, without_personas


def run_alignment(
    ws: Workspace,
    backend,
    *,
    users: int | None = None,
    items: int | None = None,
    history_length: int = HISTORY_LENGTH,
    **opts,
) -> StageReport:
    """Stage 5: for each training interaction (u, i), the persona of i that best explains the choice,
    judged from u's last L train interactions before i. With `items`, only interactions with the first N
    items (the subset the persona stage covered), so a dry run counts what a real run will do."""
    options = RunOptions.from_opts(opts)
    tables = load_tables(ws)
    personas = load_personas(ws)
    if not personas and not options.dry_run:
        raise WorkspaceError(f"{ws.root}: no personas; run `persona4rec offline personas {ws.root}` first")
    in_scope = set(first_ids(tables.items["item_id"], items)) if items is not None else None
    histories = train_histories(ws, tables, first_ids(tables.reviews["user_id"], users))
    units, without_personas = _alignment_units(
        histories, personas, tables.titles(), in_scope, history_length, options.dry_run
    )
    spec = StageSpec(
        "alignment",
        "align",
        "align",
        _to_record,
        local=_single_persona_choice,
        config={"users": users, "items": items, "history_length": history_length},
    )
    notes = {"interactions_without_personas": without_personas} if without_personas else None
    return execute(ws, backend, spec, units, options, notes)
