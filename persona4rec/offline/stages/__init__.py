"""The five offline stages as resumable, idempotent runs over a workspace, and `run_all`, the chain.

    summaries.py   stage 1: one summary per item (metadata, else train reviews, else title)
    aspects.py     stage 2: one aspect tuple per review with text, all splits
    personas.py    stage 3: 1-7 personas per item from its summary and TRAIN aspect pool (or one summary-only)
    profiles.py    stage 4 (no backend): each user's last L train interactions; `train_histories`
    alignment.py   stage 5: the persona of i that explains each train interaction (u, i)
    inputs.py      table rows as backend inputs (missing text is "", a missing rating None)
    stand_ins.py   dry-run stand-ins for the records of a stage that has not run yet

Every backend-driven stage runs on the batch engine in `offline/engine.py` (units, skip what is done,
batches appended at once, clean stops) and returns its `StageReport`; see that module for the options
every stage accepts (`**opts`). Callers use this package's names (`from persona4rec.offline import stages`,
then `stages.run_summaries`, ..., `stages.run_all`): the runners are the stages' public API, the modules
behind them are not.

Decisions worth knowing:
- Summaries come from metadata (description, categories, attributes); an item with none is summarised
  from its TRAIN reviews (source "reviews"), an item with neither from its title (source "title").
- Aspects are extracted for every review with text, in all splits (valid aspects are history at test
  time); persona pools use TRAIN reviews only, so held-out targets never shape personas.
- An item with no usable train aspect gets one persona made from its summary, `summary_only=True`,
  without a backend call; so does alignment of an item with a single persona (nothing to choose).
- Alignment covers training interactions; the profile of (u, i) is u's last L train interactions
  strictly before i (by timestamp, then item id), oldest first. L defaults to data.split.HISTORY_LENGTH.
- BudgetExceeded / LLMUnavailable stop the stage after every finished unit is persisted; the manifest
  records status "stopped" with the reason, and pending units are NOT recorded as failed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ...data.split import HISTORY_LENGTH
from ...workspace import Workspace
from ..engine import StageReport
from ..schema import MAX_PERSONAS
from .alignment import run_alignment
from .aspects import run_aspects
from .personas import run_personas
from .profiles import build_profiles
from .summaries import run_summaries

__all__ = ["STAGES", "build_profiles", "run_alignment", "run_all", "run_aspects", "run_personas", "run_summaries"]

STAGES = ("summaries", "aspects", "personas", "profiles", "alignment")


def run_all(
    ws: Workspace,
    backend,
    *,
    items: int | None = None,
    users: int | None = None,
    single: bool = False,
    max_personas: int = MAX_PERSONAS,
    history_length: int = HISTORY_LENGTH,
    on_report: Callable[[StageReport], None] | None = None,
    **opts,
) -> list[StageReport]:
    """The five stages in order (with `single`, the single-persona index is built after the multi one);
    stops after a stage that was stopped (budget, LLM unavailable)."""
    runs: Sequence[Callable[[], StageReport]] = (
        lambda: run_summaries(ws, backend, items=items, **opts),
        lambda: run_aspects(ws, backend, items=items, users=users, **opts),
        lambda: run_personas(ws, backend, items=items, max_personas=max_personas, **opts),
        *([lambda: run_personas(ws, backend, single=True, items=items, **opts)] if single else []),
        lambda: build_profiles(ws, history_length=history_length, users=users, **opts),
        lambda: run_alignment(ws, backend, users=users, items=items, history_length=history_length, **opts),
    )
    reports = []
    for run in runs:
        report = run()
        reports.append(report)
        if on_report is not None:
            on_report(report)
        if report.stopped_reason:
            break
    return reports
