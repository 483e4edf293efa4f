"""Study examples from a workspace: the same recommendation explained by two systems.

The recommendation is Persona4Rec's: the top item after reranking a test user's first-stage candidates
with the multi-persona index. Each system then explains that same item for that same user:
    multi_persona     the winning persona of the multi-persona index (name, description, rationale)
    single_persona    the item's one aggregated persona (single-persona index)
    summary_profile   the item's one-profile summary, no personas
    online_llm        a rationale the LLM client writes at request time (views/online.py)
Users are a seeded sample of those with candidates, so a study is reproducible from its seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from ..annotation.study import ExampleInput
from ..errors import InputError
from .catalogue import Catalogue
from .compare import explanation_text
from .explore import candidates_for, user_history, users_with_candidates
from .text import snippet

if TYPE_CHECKING:
    import pandas as pd

    from ..annotation.online import OnlineExplainer
    from ..rerank import Reranker

# The systems the app can build examples for, and the index variant each one needs (None: no index).
APP_SYSTEMS: dict[str, str | None] = {
    "multi_persona": "multi",
    "single_persona": "single",
    "summary_profile": None,
    "online_llm": None,
}
HISTORY_SHOWN = 5


def available_systems(cat: Catalogue, llm: bool | None = None) -> list[str]:
    """The systems this workspace can explain with: single_persona only where single personas exist,
    online_llm only where an LLM server is configured (`llm`, default: from the environment)."""
    from ..annotation.online import llm_configured

    ready = {"multi": cat.readiness.personas, "single": cat.readiness.personas_single, None: True}
    llm = llm_configured() if llm is None else llm
    return [system for system, variant in APP_SYSTEMS.items() if ready[variant] and (system != "online_llm" or llm)]


def variants_needed(system_a: str, system_b: str) -> list[str]:
    """Index variants to load: always multi (it picks the recommendation), plus those the systems use."""
    needed = ["multi"]
    for system in (system_a, system_b):
        if system not in APP_SYSTEMS:
            raise InputError(f"the app builds examples for {', '.join(APP_SYSTEMS)}, not {system!r}", field="system")
        variant = APP_SYSTEMS[system]
        if variant and variant not in needed:
            needed.append(variant)
    return needed


def persona_set_text(cat: Catalogue, system: str, item_id: str) -> str:
    """What a persona-quality study shows for a system: all of the item's personas, one per line."""
    variant = APP_SYSTEMS.get(system)
    if variant is None:
        summary = cat.summaries.get(item_id)
        return summary.summary if summary else ""
    record = (cat.personas_single if variant == "single" else cat.personas).get(item_id)
    if record is None:
        return ""
    return "\n".join(f"{p.name}: {p.description} Why: {p.preference_rationale}" for p in record.personas)


def explain(
    system: str,
    cat: Catalogue,
    rerankers: Mapping[str, Reranker],
    user_id: str,
    item_id: str,
    split: str = "test",
    criteria_set: str = "explanation",
    online: OnlineExplainer | None = None,
) -> str:
    """What `system` shows for recommending `item_id` to `user_id` ("" when it has nothing): the winning
    persona's explanation, or for the persona-quality criteria the item's whole persona set."""
    if system == "online_llm":
        if online is None:
            raise InputError("online_llm needs an LLM client (OnlineExplainer)", field="system")
        return online.explain(cat, user_id, item_id, split)
    if criteria_set == "persona":
        return persona_set_text(cat, system, item_id)
    variant = APP_SYSTEMS.get(system)
    if variant is not None:
        ranked = rerankers[variant].rerank(user_id, [item_id], split)
        return explanation_text(ranked[0] if ranked else None)
    summary = cat.summaries.get(item_id)
    return summary.summary if summary else ""


def history_for_study(cat: Catalogue, user_id: str, split: str = "test", shown: int = HISTORY_SHOWN) -> list[dict]:
    """The user's most recent items as the annotator sees them (title, rating, review snippet)."""
    frame = user_history(cat, user_id, split).tail(shown)
    return [
        {"title": t, "rating": None if r != r else float(r), "review": snippet(v, 200)}
        for t, r, v in zip(frame["title"], frame["rating"], frame["review"])
    ]


def build_examples(
    cat: Catalogue,
    candidates: pd.DataFrame,
    rerankers: Mapping[str, Reranker],
    system_a: str,
    system_b: str,
    n: int,
    seed: int = 0,
    split: str = "test",
    criteria_set: str = "explanation",
    online: OnlineExplainer | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[ExampleInput]:
    """Up to `n` examples for a seeded sample of users; a user for whom either system has no explanation
    for the recommended item is skipped (and the next sampled user taken)."""
    if n < 1:
        raise InputError("must be at least 1", field="examples")
    users = users_with_candidates(candidates, split)
    random.Random(seed).shuffle(users)
    examples: list[ExampleInput] = []
    for user_id in users:
        if len(examples) >= n:
            break
        items, scores = candidates_for(candidates, user_id, split)
        ranked = rerankers["multi"].rerank(user_id, items, split, scores)
        if not ranked:
            continue
        item_id = ranked[0].item_id
        text_a = explain(system_a, cat, rerankers, user_id, item_id, split, criteria_set, online)
        text_b = explain(system_b, cat, rerankers, user_id, item_id, split, criteria_set, online)
        if not text_a.strip() or not text_b.strip():
            continue
        examples.append(
            ExampleInput(
                user_id=user_id,
                item_id=item_id,
                explanation_a=text_a,
                explanation_b=text_b,
                history=history_for_study(cat, user_id, split),
                item_title=cat.title(item_id),
                workspace=str(cat.root),
            )
        )
        if progress is not None:
            progress(len(examples), n)
    if not examples:
        raise InputError("no user has candidates explained by both systems", field="examples")
    return examples


def history_frame(history: Sequence[dict]) -> pd.DataFrame:
    """An example's stored history as a table (whatever keys it was stored with)."""
    import pandas as pd

    return pd.DataFrame(list(history))
