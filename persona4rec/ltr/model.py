"""A learned fusion ranker: its configuration, scoring, per-feature explanations and storage.

The ranker is a LightGBM booster over a chosen subset of FEATURES. Inputs always hold every column of
FEATURES in FEATURES order (what `candidate_features` builds); the ranker selects its own columns, so one
feature tensor serves a persona+CF ranker and a CF-only baseline alike, and a column can never be
misaligned. lightgbm is imported only where a booster is built or read, so importing this package
stays cheap.

Storage is one folder, swapped in whole (io.atomic_dir):
    model.txt     Booster.save_model text
    ranker.json   {"format", "config", "features", "summary"} (summary: how it was trained and tuned)
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, InputError
from ..io import atomic_dir, write_json
from .features import FEATURES, feature_index, valid_mask

MODEL_FILE = "model.txt"
META_FILE = "ranker.json"
FORMAT = 1
OBJECTIVES = ("lambdarank", "rank_xendcg")


@dataclass
class LearnedRankerConfig:
    objective: str = "lambdarank"
    n_estimators: int = 200
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_child_samples: int = 20
    reg_lambda: float = 1.0
    subsample: float = 1.0  # row bagging fraction; 1.0 keeps whole queries together
    feature_fraction: float = 0.8  # columns per tree: keeps correlated persona features from crowding out
    seed: int = 0
    threads: int = 1  # 1 by default: deterministic and polite on shared machines
    features: tuple[str, ...] = field(default=FEATURES)

    def __post_init__(self):
        self.features = tuple(self.features)

    def validate(self) -> LearnedRankerConfig:
        """Raise ConfigError naming the bad field; returns self so calls chain."""
        if self.objective not in OBJECTIVES:
            raise ConfigError(f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        if not self.features:
            raise ConfigError("features must name at least one feature")
        feature_index(self.features)
        duplicated = sorted({f for f in self.features if self.features.count(f) > 1})
        if duplicated:
            raise ConfigError(f"features listed twice: {', '.join(duplicated)}")
        _check_int("n_estimators", self.n_estimators, 1)
        _check_int("num_leaves", self.num_leaves, 2)
        _check_int("min_child_samples", self.min_child_samples, 1)
        _check_int("threads", self.threads, 1)
        _check_int("seed", self.seed, 0)
        _check_number("learning_rate", self.learning_rate, low=0.0, low_open=True)
        _check_number("reg_lambda", self.reg_lambda, low=0.0)
        for name in ("subsample", "feature_fraction"):
            _check_number(name, getattr(self, name), low=0.0, low_open=True, high=1.0)
        return self

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["features"] = list(self.features)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LearnedRankerConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown ranker config field(s): {', '.join(unknown)}")
        return cls(**data).validate()

    def lightgbm_params(self) -> dict[str, Any]:
        """The booster parameters; deterministic=True plus a fixed seed gives identical models per run."""
        return {
            "objective": self.objective,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "lambda_l2": self.reg_lambda,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1.0 else 0,
            "feature_fraction": self.feature_fraction,
            "seed": self.seed,
            "deterministic": True,
            "force_col_wise": True,
            "num_threads": self.threads,
            "eval_at": [10],
            "verbosity": -1,
        }


def _check_int(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")


def _check_number(name: str, value: Any, low: float, low_open: bool = False, high: float | None = None) -> None:
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and (high is None or value <= high)
    if not ok:
        bounds = f"{'>' if low_open else '>='} {low}" + (f" and <= {high}" if high is not None else "")
        raise ConfigError(f"{name} must be a finite number {bounds}, got {value!r}")


class LearnedRanker:
    """A fitted booster with the config and feature names it was trained on."""

    def __init__(self, booster, config: LearnedRankerConfig, summary: dict[str, Any] | None = None):
        self.booster = booster
        self.config = config.validate()
        self.feature_names: tuple[str, ...] = config.features
        self.summary = dict(summary or {})
        self._columns = feature_index(self.feature_names)

    def select(self, X: np.ndarray) -> np.ndarray:
        """This ranker's columns of a tensor that holds every FEATURES column (..., len(FEATURES))."""
        X = np.asarray(X)
        if X.shape[-1] != len(FEATURES):
            raise ValueError(
                f"feature tensors hold all {len(FEATURES)} FEATURES columns (in FEATURES order), got {X.shape[-1]}"
            )
        return X[..., self._columns]

    def _raw(self, rows: np.ndarray, **kwargs) -> np.ndarray:
        # num_iteration: a booster grown longer (cross-validation shares one fit across n_estimators
        # values) scores with just this config's trees.
        return self.booster.predict(
            rows, num_iteration=self.config.n_estimators, num_threads=self.config.threads, **kwargs
        )

    def predict(self, X: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """(U, C) float32 scores, higher is better; padded positions are -inf so they sort last."""
        X = self.select(X)
        valid = valid_mask(lengths, X.shape[1])
        out = np.full(valid.shape, -np.inf, dtype=np.float32)
        if valid.any():
            out[valid] = self._raw(X[valid])
        return out

    def contributions(self, X_row: np.ndarray) -> np.ndarray:
        """(C, len(feature_names) + 1) SHAP-style contributions of one user's candidates (X_row: (C,
        len(FEATURES))); columns follow feature_names, the last is the bias. A row sums to its score."""
        return np.asarray(self._raw(self.select(X_row), pred_contrib=True))

    def top_contributions(self, X_row: np.ndarray, position: int, k: int = 3) -> list[tuple[str, float, float]]:
        """(feature, value, contribution) of the k features that moved the item at `position` most,
        largest |contribution| first: the "why" of a learned ranking."""
        X_row = np.asarray(X_row)
        return self.top_contributions_of_list(X_row[position : position + 1], k)[0]

    def top_contributions_of_list(self, X_row: np.ndarray, k: int = 3) -> list[list[tuple[str, float, float]]]:
        """top_contributions for every candidate of one list, from one pred_contrib call."""
        contrib = self.contributions(X_row)[:, :-1]
        values = self.select(np.asarray(X_row))
        order = np.argsort(-np.abs(contrib), axis=1, kind="stable")[:, :k]
        return [
            [(self.feature_names[j], float(values[c, j]), float(contrib[c, j])) for j in order[c]]
            for c in range(len(contrib))
        ]

    # -- storage -----------------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write model.txt and ranker.json into a temporary sibling, then swap the folder in whole."""
        directory = Path(directory)
        with atomic_dir(directory) as staging:
            self.booster.save_model(str(staging / MODEL_FILE))
            write_json(
                staging / META_FILE,
                {
                    "format": FORMAT,
                    "config": self.config.to_dict(),
                    "features": list(self.feature_names),
                    "summary": self.summary,
                },
            )
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> LearnedRanker:
        """Read a saved ranker; a missing or malformed file is an InputError naming that file."""
        directory = Path(directory)
        meta_path, model_path = directory / META_FILE, directory / MODEL_FILE
        meta = _read_meta(meta_path)
        config = _config_from_meta(meta, meta_path)
        booster = _read_booster(model_path, config.features)
        return cls(booster, config, meta.get("summary") or {})


def _read_meta(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError("learned ranker metadata is missing (was the ranker saved here?)", path=path)
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"not a readable JSON file: {exc}", path=path) from None
    if not isinstance(meta, dict):
        raise InputError("expected a JSON object", path=path)
    if meta.get("format") != FORMAT:
        raise InputError(
            f"unsupported format {meta.get('format')!r} (this version reads {FORMAT})", path=path, field="format"
        )
    return meta


def _config_from_meta(meta: dict[str, Any], path: Path) -> LearnedRankerConfig:
    if not isinstance(meta.get("config"), dict):
        raise InputError("missing or malformed", path=path, field="config")
    try:
        config = LearnedRankerConfig.from_dict(meta["config"])
    except (ConfigError, TypeError) as exc:
        raise InputError(str(exc), path=path, field="config") from None
    if list(meta.get("features") or []) != list(config.features):
        raise InputError("feature names disagree with the config's", path=path, field="features")
    return config


def _read_booster(path: Path, features: tuple[str, ...]):
    import lightgbm as lgb

    if not path.is_file():
        raise InputError("learned ranker model is missing", path=path)
    try:
        booster = lgb.Booster(model_file=str(path))
    except (lgb.basic.LightGBMError, OSError, ValueError) as exc:
        raise InputError(f"not a readable LightGBM model: {exc}", path=path) from None
    if tuple(booster.feature_name()) != tuple(features):
        raise InputError(
            f"model features {booster.feature_name()} differ from ranker.json's {list(features)}", path=path
        )
    return booster
