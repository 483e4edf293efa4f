"""Study examples from a built workspace: sampled users, the item they actually chose next (the held-out
interaction of `split`), their history before it, and each system's explanation of that item.

Systems with a built-in explainer:
    multi_persona    the winning persona of the multi-persona index (Persona4Rec's explanation)
    single_persona   the persona of the single-persona index (one aggregated persona per item)
    summary_profile  the item's summary, the same for every user (a one-profile-per-item explanation)
Any other system (e.g. "online_llm") is given as `explainers={name: fn(user_id, item_id) -> text}`.
An explainer returns "" when it has nothing for a pair (e.g. the item has no persona); such users are
skipped and the next sampled user is tried, so every example has two real explanations.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import InputError, WorkspaceError
from ..workspace import Workspace
from .study import ExampleInput

Explainer = Callable[[str, str], str]

BUILT_IN = ("multi_persona", "single_persona", "summary_profile")
REVIEW_SNIPPET_CHARS = 300
# Interactions that precede the held-out one of each split (leave-one-out: train < valid < test).
EARLIER_SPLITS = {"test": ("train", "valid"), "valid": ("train",)}


def persona_explanation(persona: Any) -> str:
    """One persona (offline.schema.Persona) as the text an annotator reads."""
    parts = [f"{persona.name}: {persona.description}".strip()]
    if persona.preference_rationale:
        parts.append(f"Why: {persona.preference_rationale}")
    return "\n".join(parts)


def reranker_explainer(reranker: Any, split: str = "test") -> Explainer:
    """Explain (user, item) by the persona that wins for this user in `reranker` (rerank.Reranker)."""

    def explain(user_id: str, item_id: str) -> str:
        ranked = reranker.rerank(user_id, [item_id], split=split)
        persona = ranked[0].persona if ranked else None
        return persona_explanation(persona) if persona is not None else ""

    return explain


def summary_explainer(ws: Workspace) -> Explainer:
    from ..offline.records import load_summaries

    summaries = {item: record.summary for item, record in load_summaries(ws).items()}
    return lambda _user, item_id: summaries.get(item_id, "")


def built_in_explainer(ws: Workspace, system: str, split: str = "test") -> Explainer:
    if system == "summary_profile":
        return summary_explainer(ws)
    if system in ("multi_persona", "single_persona"):
        try:
            from ..rerank import Reranker
        except ImportError as exc:
            raise WorkspaceError(
                f"explaining with {system!r} needs the reranker, which cannot be imported here: {exc}"
            ) from None

        variant = "multi" if system == "multi_persona" else "single"
        return reranker_explainer(Reranker.from_workspace(ws, variant), split)
    raise InputError(
        f"system {system!r} has no built-in explainer (built in: {', '.join(BUILT_IN)}); "
        f"pass explainers={{{system!r}: fn(user_id, item_id) -> text}}",
        field="system",
    )


def _snippet(text: Any) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= REVIEW_SNIPPET_CHARS else text[: REVIEW_SNIPPET_CHARS - 1].rstrip() + "…"


def user_histories(reviews, titles: Mapping[str, str], split: str, length: int) -> dict[str, list[dict]]:
    """Each user's last `length` interactions before their held-out `split` item, oldest first: item id,
    title, rating, review title and a snippet of the review text, date (YYYY-MM-DD, UTC)."""
    import pandas as pd

    earlier = reviews[reviews["split"].isin(EARLIER_SPLITS[split])].sort_values(["user_id", "timestamp"])
    out: dict[str, list[dict]] = {}
    for user_id, rows in earlier.groupby("user_id", sort=False):
        out[str(user_id)] = [
            {
                "item_id": str(r.item_id),
                "title": titles.get(str(r.item_id), "") or str(r.item_id),
                "rating": float(r.rating),
                "review_title": str(r.title or ""),
                "review": _snippet(r.text),
                "date": pd.Timestamp(int(r.timestamp), unit="ms", tz="UTC").strftime("%Y-%m-%d"),
            }
            for r in rows.tail(length).itertuples()
        ]
    return out


def build_examples(
    ws: Workspace,
    system_a: str,
    system_b: str,
    n: int,
    *,
    seed: int = 0,
    split: str = "test",
    history_length: int = 5,
    explainers: Mapping[str, Explainer] | None = None,
) -> list[ExampleInput]:
    """Up to `n` examples from the workspace, users sampled with `seed`; explanation_a comes from
    system_a and explanation_b from system_b (see the module docstring for the systems)."""
    from ..offline.stages import load_tables

    if split not in EARLIER_SPLITS:
        raise InputError(f"split must be one of {', '.join(EARLIER_SPLITS)}", field="split")
    if n < 1:
        raise InputError("must be at least 1", field="n")
    if system_a == system_b:
        raise InputError("system A and system B must differ", field="system_b")
    given = dict(explainers or {})
    explain_a = given.get(system_a) or built_in_explainer(ws, system_a, split)
    explain_b = given.get(system_b) or built_in_explainer(ws, system_b, split)

    tables = load_tables(ws)
    titles = dict(zip(tables.items["item_id"].astype(str), tables.items["title"].fillna("").astype(str)))
    held_out = tables.reviews[tables.reviews["split"] == split]
    target_of = dict(zip(held_out["user_id"].astype(str), held_out["item_id"].astype(str)))
    histories = user_histories(tables.reviews, titles, split, history_length)
    users = sorted(u for u in target_of if histories.get(u))
    random.Random(seed).shuffle(users)

    examples: list[ExampleInput] = []
    for user_id in users:
        if len(examples) == n:
            break
        item_id = target_of[user_id]
        text_a, text_b = explain_a(user_id, item_id), explain_b(user_id, item_id)
        if not text_a.strip() or not text_b.strip():
            continue
        examples.append(
            ExampleInput(
                user_id=user_id,
                item_id=item_id,
                explanation_a=text_a,
                explanation_b=text_b,
                history=histories[user_id],
                item_title=titles.get(item_id, ""),
                workspace=ws.name,
            )
        )
    return examples
