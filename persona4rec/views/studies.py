"""The Studies page's side of studies: which systems this workspace can offer, building the examples with the
library's one builder (annotation/examples.py, the same as `persona4rec study create --workspace`), an
example's stored history as a table, and the owner's report of a study's results (study_report)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..annotation.examples import PERSONA_VARIANTS, SYSTEMS, RerankerLoader
from ..annotation.study import ExampleInput
from ..errors import InputError
from ..workspace import Workspace
from .catalogue import Catalogue

if TYPE_CHECKING:
    import pandas as pd

    from ..annotation.online import OnlineExplainer

APP_SYSTEMS = SYSTEMS  # the page offers every system the builder explains with itself


def available_systems(cat: Catalogue, llm: bool | None = None) -> list[str]:
    """The systems this workspace can explain with: a persona system only where its personas exist,
    online_llm only where an LLM server is configured (`llm`, default: from the environment)."""
    from ..annotation.online import llm_configured

    built = {"multi": cat.readiness.personas, "single": cat.readiness.personas_single}
    llm = llm_configured() if llm is None else llm
    return [
        system
        for system in APP_SYSTEMS
        if built.get(PERSONA_VARIANTS.get(system), True) and (system != "online_llm" or llm)
    ]


def study_examples(
    ws: Workspace,
    systems: Sequence[str],
    n: int,
    *,
    seed: int = 0,
    criteria_set: str = "explanation",
    load_reranker: RerankerLoader | None = None,
    online: OnlineExplainer | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[ExampleInput]:
    """The page's examples: the library builder on the test split, for systems the page offers; with more
    than two systems each example gets its pair from the balanced design (annotation/design.py)."""
    from ..annotation.design import paired_examples
    from ..annotation.examples import build_system_examples

    for system in systems:
        if system not in APP_SYSTEMS:
            raise InputError(f"the app builds examples for {', '.join(APP_SYSTEMS)}, not {system!r}", field="system")
    if len(systems) < 2:
        raise InputError("choose at least two systems", field="systems")
    explained = build_system_examples(
        ws,
        list(systems),
        n,
        seed=seed,
        criteria_set=criteria_set,
        load_reranker=load_reranker,
        online=online,
        progress=progress,
    )
    return paired_examples(explained, list(systems), seed)[0]


def history_frame(history: Sequence[dict]) -> pd.DataFrame:
    """An example's stored history as a table (whatever keys it was stored with)."""
    import pandas as pd

    return pd.DataFrame(list(history))


def app_base_url(page_url: str | None) -> str:
    """The app's address (scheme and host) from the URL of the page being shown, for invitation links."""
    from urllib.parse import urlparse

    from ..annotation.invitations import DEFAULT_BASE_URL

    parts = urlparse(page_url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else DEFAULT_BASE_URL


@dataclass(frozen=True)
class StudyReport:
    """What the owner's results tab shows for one study (frames ready to lay out)."""

    criteria: pd.DataFrame  # system A vs B per criterion (a two-system study's whole result)
    pairs: pd.DataFrame  # every pair x criterion, Holm-corrected (more than two systems)
    ranking: pd.DataFrame  # Bradley-Terry strength per criterion and system, with intervals
    annotators: pd.DataFrame  # progress, time, check score, flag, agreement with the majority
    flagged: int  # annotators flagged by their attention checks


def study_report(db: Any, study_id: int, exclude_flagged: bool = False) -> StudyReport:
    """The owner's report of a study: results (without the flagged annotators if asked), quality, progress."""
    import pandas as pd

    from ..annotation.quality import study_quality
    from ..annotation.ranking import study_ranking
    from ..annotation.stats import results_frame, study_pair_results, study_results
    from ..annotation.study import get_study, study_progress

    info = get_study(db, study_id)
    many = len(info.systems) > 2
    pairs = study_pair_results(db, study_id, exclude_flagged=exclude_flagged) if many else []
    ranking = study_ranking(db, study_id, exclude_flagged=exclude_flagged)
    quality = {q.annotator_id: q for q in study_quality(db, study_id)}
    rows = []
    for a in study_progress(db, study_id).annotators:
        q = quality.get(a.annotator_id)
        rows.append(
            {
                "annotator": a.annotator,
                "assigned": a.assigned,
                "done": a.done,
                "pending": a.pending,
                "median seconds per example": a.median_seconds,
                "checks rated": q.checks_rated if q else 0,
                "check score": q.check_score if q else float("nan"),
                "flagged": bool(q and q.flagged),
                "agreement with majority": q.agreement_with_majority if q else float("nan"),
                "compared": q.compared if q else 0,
            }
        )
    return StudyReport(
        criteria=results_frame(study_results(db, study_id, exclude_flagged=exclude_flagged)),
        pairs=results_frame(pairs),
        ranking=pd.DataFrame([s.as_dict() for s in ranking]),
        annotators=pd.DataFrame(rows),
        flagged=sum(1 for q in quality.values() if q.flagged),
    )
