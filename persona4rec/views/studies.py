"""The Studies page's side of study examples: which systems this workspace can offer, building the examples
with the library's one builder (annotation/examples.py, the same as `persona4rec study create --workspace`),
and an example's stored history as a table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..annotation.examples import PERSONA_VARIANTS, SYSTEMS, RerankerLoader, build_examples
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
    system_a: str,
    system_b: str,
    n: int,
    *,
    seed: int = 0,
    criteria_set: str = "explanation",
    load_reranker: RerankerLoader | None = None,
    online: OnlineExplainer | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[ExampleInput]:
    """The page's examples: the library builder on the test split, for one of the systems the page offers."""
    for system in (system_a, system_b):
        if system not in APP_SYSTEMS:
            raise InputError(f"the app builds examples for {', '.join(APP_SYSTEMS)}, not {system!r}", field="system")
    return build_examples(
        ws,
        system_a,
        system_b,
        n,
        seed=seed,
        criteria_set=criteria_set,
        load_reranker=load_reranker,
        online=online,
        progress=progress,
    )


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
