"""The accuracy rows of the bench: each reranker evaluated on TEST and compared, per user, with its generator.

A row holds the generator, the reranker's labels (reranker, encoder, variant, scoring, gamma, fusion
weight), HR/MRR/NDCG at every K and the paired test on NDCG@10 against the generator's own ranking; its
segment row (Table 5) and per-user metrics are kept beside it. Rows are added in the order the tables
print them, and `compare_with_best_cf` finally sets each row against the strongest CF baseline and
corrects the table's p-values (Holm and Benjamini-Hochberg) over all its comparisons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...metrics import metric_columns
from ...workspace import Workspace
from .config import BenchConfig

SIGNIFICANCE_METRIC = "NDCG@10"


def row_label(variant: str, encoder: str, scoring: str) -> str:
    return f"Persona4Rec {variant} / {encoder} / {scoring}"


@dataclass
class AccuracyGrid:
    ws: Workspace
    config: BenchConfig
    split_frame: Any
    baselines: dict  # generator -> GeneratorEvaluation on test
    lists: dict  # generator -> (users, lists, scores) on test
    rows: list = field(default_factory=list)
    segment_rows: list = field(default_factory=list)
    per_user: dict = field(default_factory=dict)  # "reranker @ generator" -> per-user metrics frame
    serving: list = field(default_factory=list)  # the configs written to serving.json

    @classmethod
    def start(cls, ws: Workspace, config: BenchConfig) -> AccuracyGrid:
        """The grid with every generator's own (CF only) row: the baseline each reranker is tested against."""
        from ...candidates.generate import candidate_lists, read_split
        from ..workspace_eval import evaluate_generator

        grid = cls(ws, config, read_split(ws), {}, {})
        for generator in config.generators:
            grid.baselines[generator] = evaluate_generator(ws, generator, split="test", ks=config.ks)
            grid.lists[generator] = candidate_lists(ws, generator)
            grid.per_user[f"{generator} (CF only) @ {generator}"] = grid.baselines[generator].per_user
            grid.add(
                generator,
                grid.baselines[generator],
                None,
                reranker=f"{generator} (CF only)",
                encoder="",
                variant="",
                scoring="CF",
                gamma=None,
                fusion_weight=None,
            )
        return grid

    def add(self, generator: str, evaluation, comparison, **labels) -> None:
        """One row (and its segment row) from an evaluation and its paired comparison (None for a baseline)."""
        overall = evaluation.overall
        row = {
            "generator": generator,
            **labels,
            "users": overall["users"],
            **{c: overall[c] for c in metric_columns(self.config.ks)},
        }
        if comparison is not None:
            row.update(
                {
                    "dNDCG@10": comparison.mean_difference,
                    "rel_NDCG@10": comparison.relative_change,
                    "p_t": comparison.t_pvalue,
                    "p_wilcoxon": comparison.wilcoxon_pvalue,
                    "ci_low": comparison.ci_low,
                    "ci_high": comparison.ci_high,
                    "wins": comparison.wins,
                    "losses": comparison.losses,
                    "ties": comparison.ties,
                }
            )
        self.rows.append(row)
        seg = {"generator": generator, "reranker": labels["reranker"]}
        for name, values in evaluation.segments.items():
            seg[f"{name} users"] = values["users"]
            seg[f"{name} HR@10"] = values["HR@10"]
            seg[f"{name} NDCG@10"] = values["NDCG@10"]
        self.segment_rows.append(seg)

    def evaluate(self, model, generator: str, fusion_weight: float, **labels) -> None:
        """Rerank `generator`'s TEST lists with `model` and add the row. A persona reranker is scored at
        `fusion_weight` without a learned ranker; learned and CF rows are scored as given."""
        from ..significance import compare_per_user
        from ..workspace_eval import evaluate_lists

        users, lists, scores = self.lists[generator]
        if labels.get("scoring") != "learned" and not str(labels.get("scoring", "")).startswith("CF"):
            model = model.with_options(fusion_weight=fusion_weight, ranker=None)
        ranked = model.rank_ids_many(users, lists, "test", scores)
        evaluation = evaluate_lists(
            self.split_frame, dict(zip(users, ranked)), name=labels["reranker"], split="test", ks=self.config.ks
        )
        comparison = compare_per_user(
            self.baselines[generator].per_user,
            evaluation.per_user,
            metric=SIGNIFICANCE_METRIC,
            samples=self.config.bootstrap_samples,
        )
        self.per_user[labels["reranker"] + " @ " + generator] = evaluation.per_user
        self.add(generator, evaluation, comparison, fusion_weight=fusion_weight, **labels)

    def compare_with_best_cf(self) -> None:
        """Each row against the strongest CF baseline on TEST (either generator or the CF-only learned
        ranker), and Holm / Benjamini-Hochberg corrections over the whole table's comparisons."""
        from ..significance import compare_per_user, correct_pvalues

        baselines = [r for r in self.rows if str(r.get("scoring", "")).startswith("CF")]
        best = max(baselines, key=lambda r: r["NDCG@10"])
        best_key = f"{best['reranker']} @ {best['generator']}"
        for row in self.rows:
            row["best_cf"] = best_key
            key = f"{row['reranker']} @ {row['generator']}"
            if key == best_key:
                continue
            comparison = compare_per_user(
                self.per_user[best_key],
                self.per_user[key],
                metric=SIGNIFICANCE_METRIC,
                samples=self.config.bootstrap_samples,
            )
            row.update({"rel_best_cf": comparison.relative_change, "p_best_cf": comparison.t_pvalue})
        for column in ("p_t", "p_best_cf"):
            values = [r.get(column) for r in self.rows]
            for method in ("holm", "bh"):
                adjusted = correct_pvalues(values, method)
                suffix = "" if column == "p_t" else "_best_cf"
                for row, value in zip(self.rows, adjusted):
                    row[f"p_{method}{suffix}"] = None if value != value else float(value)
