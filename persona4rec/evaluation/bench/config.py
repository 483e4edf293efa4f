"""What a bench runs (BenchConfig, and the tiny grids of its quick mode) and what it returns (BenchResult)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...errors import ConfigError
from ...index.variants import PAPER_FIRST_K
from ...metrics import DEFAULT_KS
from ..latency import LatencyConfig
from ..tuning import FUSION_WEIGHTS, GAMMAS


@dataclass
class BenchConfig:
    generators: tuple[str, ...] = ("bpr", "lightgcn")
    ks: tuple[int, ...] = DEFAULT_KS
    skip_train: bool = False  # never fine-tune the encoder here (vanilla only unless one exists)
    quick: bool = False  # tiny grids for tests: fewer gammas/weights, small latency grid
    gammas: tuple[float, ...] = GAMMAS
    fusion_weights: tuple[float, ...] = FUSION_WEIGHTS
    first_k: tuple[int, ...] = PAPER_FIRST_K
    bootstrap_samples: int = 10_000
    latency: LatencyConfig = field(default_factory=LatencyConfig)
    llm_base_url: str | None = None  # None: start llama.cpp's server with SmolLM2 when installed
    llm_model: str = "smollm2-135m"
    llm_users: int = 5
    llm: bool = True  # False: report the listwise baseline as not run
    learned: bool = True  # the learned ranker rows (and the CF-only learned baseline)
    ltr_folds: int = 5  # cross-validation folds on VALID for the learned ranker
    negatives_ablation: bool = True  # adapter retrained without each kind of negative
    only: tuple[str, ...] = ()  # () = everything; else some of timing.PARTS, measured alone (`--only`)

    @classmethod
    def quick_config(cls, **changes) -> BenchConfig:
        latency = LatencyConfig(
            batch_sizes=(1, 10),
            candidate_sizes=(20, 50),
            single_requests=200,
            synthetic_items=300,
            retrieval_sizes=(2_000,),
            retrieval_queries=10,
            retrieval_k=10,
            retrieval_excluded=2,
            retrieval_projected_sizes=(),
        )
        base = dict(
            quick=True,
            gammas=(0.5, 0.9),
            fusion_weights=(0.0, 0.5, 1.0),
            first_k=(1, 3),
            ltr_folds=2,
            bootstrap_samples=500,
            latency=latency,
        )
        base.update(changes)
        return cls(**base)

    def validate(self) -> None:
        if not self.generators:
            raise ConfigError("bench needs at least one generator (--generators bpr,lightgcn)")
        if not self.ks or any(k < 1 for k in self.ks):
            raise ConfigError(f"--ks must be positive integers, got {self.ks}")
        if 10 not in self.ks:
            raise ConfigError("--ks must include 10 (segments, tuning and significance are reported @10)")
        from .timing import PARTS

        unknown = set(self.only) - set(PARTS)
        if unknown:
            raise ConfigError(f"--only takes {', '.join(PARTS)}; got {', '.join(sorted(unknown))}")

    def learned_ranker_grid(self):
        """The learned ranker's hyperparameter grid: one small config in quick mode, else None (the default grid)."""
        if not self.quick:
            return None
        from ...ltr import LearnedRankerConfig

        return [LearnedRankerConfig(num_leaves=7, n_estimators=50, min_child_samples=5)]


@dataclass
class BenchResult:
    accuracy: Any  # DataFrame, one row per generator x reranker (Table 4 + ablations)
    segments: Any  # DataFrame, Table 5
    tuning: dict
    latency: dict
    llm: dict
    encoders: list[str]
    report_path: str
    tables: dict[str, Any] = field(default_factory=dict)  # caption -> DataFrame, as printed
