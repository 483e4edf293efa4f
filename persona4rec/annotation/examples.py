"""Study examples from a built workspace: the one builder that `persona4rec study create --workspace` and
the app's Studies page both call.

Each example explains the item the user actually chose next: the held-out interaction of `split`. So every
system explains a true choice, a study does not depend on how well the reranker ranks, and users without
first-stage candidates can be sampled too. Users are a seeded sample of those with a held-out item and
some history before it; the history shown beside each example is annotation/history.py's.

Systems (their descriptions: study.KNOWN_SYSTEMS):
    multi_persona    the winning persona of the multi-persona index for this user (Persona4Rec's explanation)
    single_persona   the persona of the single-persona index (one aggregated persona per item)
    summary_profile  the item's summary, the same for every user (a one-profile-per-item explanation)
    online_llm       a rationale the LLM writes at request time from the shown history (annotation/online.py);
                     needs `online=OnlineExplainer(ws)`
Any other system is given as `explainers={name: fn(user_id, item_id) -> text}`.
With the persona criteria set the persona systems show the item's whole persona set (the set is what is
judged), not the winner; summary_profile and online_llm show what they always show.
The winning persona comes from the workspace's tuned serving config (Reranker.from_workspace reads
serving.json), unless the caller passes its own loader (the app passes its cached rerankers).
An explainer returns "" when it has nothing for a pair (e.g. the item has no persona); such users are
skipped and the next sampled user is tried, so every example has two real explanations.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..data.split import EARLIER_SPLITS, split_targets
from ..errors import InputError
from ..workspace import Workspace
from .criteria import criteria_for
from .design import SystemsExample
from .history import HISTORY_SHOWN, shown_histories
from .study import ExampleInput

if TYPE_CHECKING:
    from ..rerank import Reranker
    from .online import OnlineExplainer

Explainer = Callable[[str, str], str]
RerankerLoader = Callable[[str], "Reranker"]  # index variant ("multi", "single") -> its reranker

PERSONA_VARIANTS = {"multi_persona": "multi", "single_persona": "single"}  # system -> index variant
BUILT_IN = (*PERSONA_VARIANTS, "summary_profile")
ONLINE_LLM = "online_llm"
SYSTEMS = (*BUILT_IN, ONLINE_LLM)  # every system the builder explains with itself


@dataclass(frozen=True)
class HeldOut:
    """A split's held-out interactions and what a study shows beside them, read once per build."""

    split: str
    targets: dict[str, str]  # user -> the item they chose next
    histories: dict[str, list[dict[str, Any]]]  # user -> their shown history before it
    titles: dict[str, str]  # item -> title ("" where none)

    @classmethod
    def load(cls, ws: Workspace, split: str = "test", history_length: int = HISTORY_SHOWN) -> HeldOut:
        from ..data.tables import load_tables

        tables = load_tables(ws)
        titles = tables.titles()
        targets = split_targets(tables.reviews, split)
        return cls(split, targets, shown_histories(tables.reviews, titles, split, history_length), titles)

    def sampled_users(self, seed: int) -> list[str]:
        """Users with a held-out item and a history to show, in the seeded order examples are tried."""
        users = sorted(u for u in self.targets if self.histories.get(u))
        random.Random(seed).shuffle(users)
        return users


# -- explainers -----------------------------------------------------------------------------------------


def reranker_explainer(reranker: Reranker, split: str = "test") -> Explainer:
    """Explain (user, item) by the persona that wins for this user in `reranker` (rerank.Reranker)."""
    from ..offline.persona_text import persona_explanation

    def explain(user_id: str, item_id: str) -> str:
        ranked = reranker.rerank(user_id, [item_id], split=split)
        persona = ranked[0].persona if ranked else None
        return persona_explanation(persona) if persona is not None else ""

    return explain


def persona_set_explainer(ws: Workspace, variant: str) -> Explainer:
    """Explain (user, item) by all of the item's personas in `variant` ("multi", "single"), one per line."""
    from ..offline.persona_text import persona_set_text
    from ..offline.records import load_personas

    records = load_personas(ws, single=variant == "single")
    return lambda _user, item_id: persona_set_text(records[item_id].personas) if item_id in records else ""


def item_summaries(ws: Workspace) -> dict[str, str]:
    from ..offline.records import load_summaries

    return {item: record.summary for item, record in load_summaries(ws).items()}


def summary_explainer(ws: Workspace) -> Explainer:
    summaries = item_summaries(ws)
    return lambda _user, item_id: summaries.get(item_id, "")


def online_llm_explainer(ws: Workspace, online: OnlineExplainer, held_out: HeldOut) -> Explainer:
    """Explain (user, item) by a rationale `online` writes from the history the annotator is shown."""
    from ..data.schema import review_key

    summaries = item_summaries(ws)

    def explain(user_id: str, item_id: str) -> str:
        title = held_out.titles.get(item_id) or item_id
        history = held_out.histories.get(user_id, [])
        return online.explain(history, title, summaries.get(item_id) or title, key=review_key(user_id, item_id))

    return explain


def built_in_explainer(
    ws: Workspace,
    system: str,
    split: str = "test",
    *,
    criteria_set: str = "explanation",
    load_reranker: RerankerLoader | None = None,
) -> Explainer:
    """The explainer of a built-in system (multi_persona, single_persona, summary_profile)."""
    if system == "summary_profile":
        return summary_explainer(ws)
    if system not in PERSONA_VARIANTS:
        raise _no_explainer(system)
    variant = PERSONA_VARIANTS[system]
    if criteria_set == "persona":
        return persona_set_explainer(ws, variant)
    return reranker_explainer((load_reranker or _serving_reranker(ws))(variant), split)


def _serving_reranker(ws: Workspace) -> RerankerLoader:
    def load(variant: str) -> Reranker:
        from ..rerank import Reranker

        return Reranker.from_workspace(ws, variant)  # the tuned serving config of serving.json

    return load


def _no_explainer(system: str) -> InputError:
    hint = " without an LLM client: pass online=OnlineExplainer(ws)" if system == ONLINE_LLM else ""
    return InputError(
        f"system {system!r} has no built-in explainer{hint} (built in: {', '.join(BUILT_IN)}); "
        f"pass explainers={{{system!r}: fn(user_id, item_id) -> text}}",
        field="system",
    )


# -- the builder ----------------------------------------------------------------------------------------


def build_examples(
    ws: Workspace,
    system_a: str,
    system_b: str,
    n: int,
    *,
    seed: int = 0,
    split: str = "test",
    criteria_set: str = "explanation",
    history_length: int = HISTORY_SHOWN,
    explainers: Mapping[str, Explainer] | None = None,
    load_reranker: RerankerLoader | None = None,
    online: OnlineExplainer | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[ExampleInput]:
    """Up to `n` examples, users sampled with `seed`; explanation_a comes from system_a and explanation_b
    from system_b (see the module docstring). `progress(done, n)` is called after each example.
    InputError when no sampled user has both explanations."""
    from .design import paired_examples

    if system_a == system_b:
        raise InputError("system A and system B must differ", field="system_b")
    explained = build_system_examples(
        ws,
        [system_a, system_b],
        n,
        seed=seed,
        split=split,
        criteria_set=criteria_set,
        history_length=history_length,
        explainers=explainers,
        load_reranker=load_reranker,
        online=online,
        progress=progress,
    )
    return paired_examples(explained, [system_a, system_b], seed)[0]


def build_system_examples(
    ws: Workspace,
    systems: Sequence[str],
    n: int,
    *,
    seed: int = 0,
    split: str = "test",
    criteria_set: str = "explanation",
    history_length: int = HISTORY_SHOWN,
    explainers: Mapping[str, Explainer] | None = None,
    load_reranker: RerankerLoader | None = None,
    online: OnlineExplainer | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[SystemsExample]:
    """Up to `n` sampled users' held-out items, each explained by every one of `systems` (a study of more
    than two systems pairs them with design.paired_examples). A user is skipped when any system has
    nothing to say. InputError when no sampled user is explained by all of them."""
    given = dict(explainers or {})
    _check_request(systems, n, split, criteria_set, given, online)
    held_out = HeldOut.load(ws, split, history_length)
    explain = _explainers(ws, systems, held_out, given, criteria_set, load_reranker, online)
    examples: list[SystemsExample] = []
    for user_id in held_out.sampled_users(seed):
        if len(examples) == n:
            break
        item_id = held_out.targets[user_id]
        texts = {system: fn(user_id, item_id) for system, fn in explain.items()}
        if not all(text.strip() for text in texts.values()):
            continue
        examples.append(
            SystemsExample(
                user_id=user_id,
                item_id=item_id,
                explanations=texts,
                history=held_out.histories[user_id],
                item_title=held_out.titles.get(item_id, ""),
                workspace=ws.name,
            )
        )
        if progress is not None:
            progress(len(examples), n)
    if not examples:
        raise InputError(
            f"no user with a held-out {split} item and a history has an explanation from every one of "
            f"{', '.join(systems)}",
            path=ws.root,
        )
    return examples


def complete_from_workspace(
    ws: Workspace,
    examples: Sequence[SystemsExample],
    systems: Sequence[str],
    *,
    split: str = "test",
    criteria_set: str = "explanation",
    history_length: int = HISTORY_SHOWN,
    load_reranker: RerankerLoader | None = None,
    online: OnlineExplainer | None = None,
) -> list[SystemsExample]:
    """A team's own explanations (examples_io.read_system_explanations) joined with ours: each example
    gains the explanations of the built-in `systems` it lacks, for its own user and item, and the user's
    shown history and the item's title from the workspace."""
    held_out = HeldOut.load(ws, split, history_length)
    wanted = [s for s in systems if any(s not in e.explanations for e in examples)]
    if wanted:
        _check_request(wanted, 1, split, criteria_set, {}, online)
    explain = _explainers(ws, wanted, held_out, {}, criteria_set, load_reranker, online)
    out = []
    for e in examples:
        texts = dict(e.explanations)
        for system, fn in explain.items():
            texts.setdefault(system, fn(e.user_id, e.item_id))
        out.append(
            SystemsExample(
                user_id=e.user_id,
                item_id=e.item_id,
                explanations=texts,
                history=e.history or held_out.histories.get(e.user_id, []),
                item_title=e.item_title or held_out.titles.get(e.item_id, ""),
                workspace=e.workspace or ws.name,
            )
        )
    return out


def _explainers(
    ws: Workspace,
    systems: Sequence[str],
    held_out: HeldOut,
    given: Mapping[str, Explainer],
    criteria_set: str,
    load_reranker: RerankerLoader | None,
    online: OnlineExplainer | None,
) -> dict[str, Explainer]:
    def explainer(system: str) -> Explainer:
        if system in given:
            return given[system]
        if system == ONLINE_LLM:
            return online_llm_explainer(ws, online, held_out)
        return built_in_explainer(ws, system, held_out.split, criteria_set=criteria_set, load_reranker=load_reranker)

    return {system: explainer(system) for system in systems}


def _check_request(systems, n, split, criteria_set, given, online) -> None:
    """Every way a request can be wrong, before anything is loaded; InputError names the field."""
    if split not in EARLIER_SPLITS:
        raise InputError(f"split must be one of {', '.join(EARLIER_SPLITS)}", field="split")
    if n < 1:
        raise InputError("must be at least 1", field="n")
    if len(set(systems)) != len(systems):
        raise InputError("a system is listed twice", field="systems")
    criteria_for(criteria_set)
    for system in systems:
        if system not in given and system not in BUILT_IN and not (system == ONLINE_LLM and online is not None):
            raise _no_explainer(system)
