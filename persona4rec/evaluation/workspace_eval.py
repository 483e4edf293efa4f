"""CF-only metrics of a workspace's first-stage candidates (the "generator" rows of the paper's tables).

    evaluate_generator(ws, "bpr", split="test") -> GeneratorEvaluation
    record_generator_evaluation(ws, evaluation)  -> metrics.json["generators"][gen][split] + report section

Every user with a target in the split counts; a user without a candidate list counts as a miss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..data.split import split_targets
from ..metrics import DEFAULT_KS, per_user_metrics, summarize
from ..workspace import Workspace
from .segments import segment_metrics, segments_from_train


@dataclass
class GeneratorEvaluation:
    generator: str
    split: str
    overall: dict[str, float]
    segments: dict[str, dict[str, float]]
    segment_sizes: dict[str, int]
    per_user: Any  # per_user_metrics frame (for paired tests against a reranker)
    users_without_candidates: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall,
            "segments@10": self.segments,
            "segment_sizes": self.segment_sizes,
            "users_without_candidates": self.users_without_candidates,
        }


def ranked_lists(candidates, split_name: str) -> dict[str, list[str]]:
    """user_id -> candidate item ids in rank order, of one split of a candidates frame."""
    from ..candidates.generate import lists_by_user

    users, lists, _ = lists_by_user(candidates, split_name)
    return dict(zip(users, lists))


def evaluate_generator(ws: Workspace, generator: str, *, split: str = "test", ks=DEFAULT_KS) -> GeneratorEvaluation:
    """CF-only metrics of candidates/<generator>.parquet on `split`."""
    from ..candidates.generate import candidate_lists, read_split

    users, lists, _ = candidate_lists(ws, generator, split)
    return evaluate_lists(read_split(ws), dict(zip(users, lists)), name=generator, split=split, ks=ks)


def evaluate_lists(
    split_frame, lists: dict[str, list[str]], *, name: str, split: str = "test", ks=DEFAULT_KS
) -> GeneratorEvaluation:
    """Metrics, train-count segments and per-user values of any ranked lists (user_id -> item ids), e.g.
    a reranker's output, against the targets of `split` in a split frame; users without a list miss."""
    targets = split_targets(split_frame, split)
    users = sorted(targets)
    ranked = [lists.get(u, []) for u in users]
    truth = [targets[u] for u in users]
    per_user = per_user_metrics(users, ranked, truth, ks)
    segments = segments_from_train(split_frame, users, truth)
    return GeneratorEvaluation(
        generator=name,
        split=split,
        overall=summarize(per_user),
        segments=segment_metrics(users, ranked, truth, segments, k=10),
        segment_sizes=segments.sizes(),
        per_user=per_user,
        users_without_candidates=sum(u not in lists for u in users),
    )


def record_generator_evaluation(ws: Workspace, evaluation: GeneratorEvaluation):
    """Merge into metrics.json under generators/<gen>/<split> and (re)write the generators' report section."""
    import pandas as pd

    from .report import ReportSection, merge_metrics, read_metrics, write_report

    merge_metrics(ws, ("generators", evaluation.generator, evaluation.split), evaluation.to_dict())
    generators = read_metrics(ws).get("generators", {})
    rows, seg_rows = [], []
    for name, by_split in sorted(generators.items()):
        for split_name, result in sorted(by_split.items()):
            overall = result.get("overall", {})
            rows.append(
                {
                    "generator": name,
                    "split": split_name,
                    "users": overall.get("users"),
                    **{k: overall[k] for k in overall if "@" in k},
                }
            )
            for seg, values in result.get("segments@10", {}).items():
                seg_rows.append({"generator": name, "split": split_name, "segment": seg, **values})
    table = pd.DataFrame(rows)
    figures = []
    if len(table):
        import plotly.express as px

        figures.append(
            (
                "ndcg10",
                px.bar(
                    table,
                    x="generator",
                    y="NDCG@10",
                    color="split",
                    barmode="group",
                    title="First-stage generators: NDCG@10",
                ),
            )
        )
    section = ReportSection(
        key="generators",
        title="First-stage generators (CF only)",
        text="Leave-one-out; HR@20 of a generator is its candidate recall, the ceiling of any reranker. "
        "Segments: top/bottom 20% by train-split review count (see persona4rec/evaluation/segments.py).",
        tables=[("Overall", table), ("Segments @10", pd.DataFrame(seg_rows))],
        figures=figures,
    )
    return write_report(ws, [section])


def compare_to_generator(
    ws: Workspace,
    generator: str,
    lists: dict[str, list[str]],
    *,
    name: str,
    split: str = "test",
    metric: str = "NDCG@10",
    ks=DEFAULT_KS,
    **significance,
):
    """Evaluate `lists` (e.g. a reranker's reordering of `generator`'s candidates) and test it against
    the generator on the same users: (GeneratorEvaluation of the lists, PairedComparison on `metric`)."""
    from ..candidates.generate import read_split
    from .significance import compare_per_user

    evaluation = evaluate_lists(read_split(ws), lists, name=name, split=split, ks=ks)
    baseline = evaluate_generator(ws, generator, split=split, ks=ks)
    return evaluation, compare_per_user(baseline.per_user, evaluation.per_user, metric=metric, **significance)
