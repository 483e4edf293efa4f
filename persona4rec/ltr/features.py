"""Per-(user, candidate) features for learned fusion of persona evidence with the first-stage (CF) signal.

The persona scorer gives every candidate a (U, C, P) block of persona similarities; max-over-personas
throws most of it away. Here each candidate becomes one row of FEATURES: the CF signal (raw, scaled,
rank), the shape of its persona similarities (max, mean, second best, gap, count), where it stands
within its own list (z-score, rank: a similarity of 0.4 means little until compared with the other
candidates of the same user), an optional item-summary similarity, and context (popularity, history
length, list length) so the model can learn when to trust which signal.

Everything is vectorised over users and candidates. Conventions:
- Padding (positions >= lengths[u]) holds 0 in every column, so arrays stay finite.
- Unknown items (a real position, every persona slot -inf) get persona_count 0, persona_gap 0, and
  persona_max / mean / second at the list minimum of the known items minus 1 (-1 when no item of the
  list is known): they rank below every known item, without a NaN, and the margin stays in the scale
  of the similarities.
- summary_sim / summary_z are NaN at real positions when no summary similarities are given, or where one
  is not finite (an item without a summary); LightGBM treats NaN as missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..errors import ConfigError

# What the personas (and the item summary) say about a candidate: the CF-only ranker leaves these out.
PERSONA_FEATURES: tuple[str, ...] = (
    "persona_max",
    "persona_mean",
    "persona_second",
    "persona_gap",
    "persona_count",
    "persona_max_z",
    "persona_max_rank",
    "summary_sim",
    "summary_z",
)
# The column order of every feature matrix (a saved ranker depends on it).
FEATURES: tuple[str, ...] = (
    ("cf_score", "cf_norm", "cf_rank", "cf_inv_rank") + PERSONA_FEATURES + ("item_pop_log", "history_len", "list_len")
)
CF_FEATURES: tuple[str, ...] = tuple(f for f in FEATURES if f not in PERSONA_FEATURES)


def feature_index(names: Iterable[str]) -> list[int]:
    """Column of each named feature in FEATURES order; an unknown name is a ConfigError listing the known."""
    position = {name: n for n, name in enumerate(FEATURES)}
    out = []
    for name in names:
        if name not in position:
            raise ConfigError(f"unknown ranking feature {name!r}; known: {', '.join(FEATURES)}")
        out.append(position[name])
    return out


def valid_mask(lengths: np.ndarray, width: int) -> np.ndarray:
    """(U, C) True at the real (non-padded) candidate positions."""
    return np.arange(width)[None, :] < np.asarray(lengths)[:, None]


def candidate_features(
    *,
    sims: np.ndarray,
    cf_scores: np.ndarray,
    lengths: np.ndarray,
    item_popularity: np.ndarray,
    history_lengths: np.ndarray,
    summary_sims: np.ndarray | None = None,
) -> np.ndarray:
    """(U, C, len(FEATURES)) float32 feature tensor, columns in FEATURES order (see the module notes)."""
    sims = np.asarray(sims, dtype=np.float32)
    n_users, width = sims.shape[:2]
    lengths = np.asarray(lengths, dtype=np.int64)
    _check_shapes(sims, cf_scores, lengths, item_popularity, history_lengths, summary_sims)
    valid = valid_mask(lengths, width)
    columns = {
        **_cf_columns(np.asarray(cf_scores, dtype=np.float64), valid),
        **_persona_columns(sims, valid),
        **_summary_columns(summary_sims, valid),
        **_context_columns(item_popularity, history_lengths, lengths, valid),
    }
    out = np.stack([columns[name] for name in FEATURES], axis=2).astype(np.float32)
    return np.where(valid[..., None], out, np.float32(0.0))


def _check_shapes(sims, cf_scores, lengths, item_popularity, history_lengths, summary_sims) -> None:
    """Say which input disagrees with sims' (U, C) instead of failing later in a broadcast."""
    if sims.ndim != 3:
        raise ValueError(f"sims must be (users, candidates, personas), got shape {sims.shape}")
    users_cands = sims.shape[:2]
    for name, array in (("cf_scores", cf_scores), ("item_popularity", item_popularity), ("summary_sims", summary_sims)):
        if array is not None and np.shape(array) != users_cands:
            raise ValueError(f"{name} must have shape {users_cands} like sims, got {np.shape(array)}")
    for name, array in (("lengths", lengths), ("history_lengths", history_lengths)):
        if np.shape(array) != users_cands[:1]:
            raise ValueError(f"{name} must have shape {users_cands[:1]}, got {np.shape(array)}")
    if len(lengths) and (lengths.min() < 0 or lengths.max() > users_cands[1]):
        raise ValueError(f"lengths must lie in [0, {users_cands[1]}]")


# -- within-list statistics --------------------------------------------------------------------------


def within_list_z(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(x - mean) / std over each user's real, finite values; 0 where all are equal, NaN where x is NaN."""
    use = valid & np.isfinite(values)
    count = use.sum(axis=1, keepdims=True)
    safe = np.where(use, values, 0.0)
    mean = safe.sum(axis=1, keepdims=True) / np.maximum(count, 1)
    std = np.sqrt(np.where(use, (safe - mean) ** 2, 0.0).sum(axis=1, keepdims=True) / np.maximum(count, 1))
    # A constant list can leave a rounding-sized std; compare the values themselves, not std > 0.
    spread = np.where(use, values, -np.inf).max(axis=1, keepdims=True) > np.where(use, values, np.inf).min(
        axis=1, keepdims=True
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(spread & (std > 0), (values - mean) / np.where(std > 0, std, 1.0), 0.0)
    return np.where(np.isnan(values), np.nan, z)


def within_list_rank(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """1-based rank of each real candidate's value within its list, 1 = highest; equal values share the
    best rank of their group (so all unknown items of a list share one rank)."""
    keyed = np.where(valid, values, -np.inf)
    order = np.argsort(-keyed, axis=1, kind="stable")
    ordered = np.take_along_axis(keyed, order, axis=1)
    step = np.arange(ordered.shape[1])[None, :]
    starts = np.ones_like(ordered, dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    first = np.maximum.accumulate(np.where(starts, step, 0), axis=1)
    ranks = np.empty_like(first)
    np.put_along_axis(ranks, order, first + 1, axis=1)
    return ranks.astype(np.float64)


def list_min_minus_one(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """(U, 1) fill value for unknown items: the list's minimum over known items minus 1 (-1 if none)."""
    low = np.where(known, values, np.inf).min(axis=1, keepdims=True)
    return np.where(np.isfinite(low), low, 0.0) - 1.0


# -- feature groups ----------------------------------------------------------------------------------


def within_list_min_max(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Row-wise min-max over the real positions (1.0 where a row's values are all equal); padding
    positions hold whatever the formula gives (callers mask them)."""
    low = np.where(valid, values, np.inf).min(axis=1, keepdims=True)
    high = np.where(valid, values, -np.inf).max(axis=1, keepdims=True)
    span = high - low
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(span > 0, (values - low) / np.where(span > 0, span, 1.0), 1.0)


def _cf_columns(cf_scores: np.ndarray, valid: np.ndarray) -> dict[str, np.ndarray]:
    norm = within_list_min_max(cf_scores, valid)
    rank = np.broadcast_to(np.arange(1, cf_scores.shape[1] + 1, dtype=np.float64), cf_scores.shape)
    return {"cf_score": cf_scores, "cf_norm": norm, "cf_rank": rank, "cf_inv_rank": 1.0 / rank}


def _persona_columns(sims: np.ndarray, valid: np.ndarray) -> dict[str, np.ndarray]:
    """Max, mean, second best, gap and count over an item's personas, then its place in the list."""
    if sims.shape[2] == 0:  # an index with no personas at all: every item is unknown
        sims = np.full(sims.shape[:2] + (1,), -np.inf, dtype=np.float32)
    slot = np.isfinite(sims) & valid[..., None]
    count = slot.sum(axis=2)
    known = count > 0
    masked = np.where(slot, sims, -np.inf).astype(np.float64)
    best = masked.max(axis=2)
    mean = np.where(slot, masked, 0.0).sum(axis=2) / np.maximum(count, 1)
    if masked.shape[2] > 1:
        second = -np.partition(-masked, 1, axis=2)[..., 1]
        second = np.where(count > 1, second, best)
    else:
        second = best
    out = {}
    for name, values in (("persona_max", best), ("persona_mean", mean), ("persona_second", second)):
        out[name] = np.where(known, values, list_min_minus_one(values, known & valid))
    out["persona_gap"] = np.where(known, np.where(known, best, 0.0) - np.where(known, second, 0.0), 0.0)
    out["persona_count"] = count.astype(np.float64)
    out["persona_max_z"] = within_list_z(out["persona_max"], valid)
    out["persona_max_rank"] = within_list_rank(out["persona_max"], valid)
    return out


def _summary_columns(summary_sims: np.ndarray | None, valid: np.ndarray) -> dict[str, np.ndarray]:
    if summary_sims is None:
        missing = np.full(valid.shape, np.nan)
        return {"summary_sim": missing, "summary_z": missing}
    values = np.asarray(summary_sims, dtype=np.float64)
    values = np.where(np.isfinite(values), values, np.nan)
    return {"summary_sim": values, "summary_z": within_list_z(values, valid)}


def _context_columns(item_popularity, history_lengths, lengths, valid) -> dict[str, np.ndarray]:
    shape = valid.shape
    popularity = np.maximum(np.asarray(item_popularity, dtype=np.float64), 0.0)
    return {
        "item_pop_log": np.log1p(popularity),
        "history_len": np.broadcast_to(np.asarray(history_lengths, dtype=np.float64)[:, None], shape),
        "list_len": np.broadcast_to(lengths.astype(np.float64)[:, None], shape),
    }


# -- CF scores of candidate lists, as the reranker's fusion and the features read them ----------------


def padded_scores(rows: Sequence[Sequence[float]], shape: tuple[int, int]) -> np.ndarray:
    """Per-list scores as a (U, C) array, 0 on the padding of short lists."""
    out = np.zeros(shape, dtype=np.float32)
    for n, row in enumerate(rows):
        out[n, : len(row)] = row
    return out


def normalised_cf(cf_scores: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Row-wise min-max of CF scores over the real candidates (1.0 where a row's scores are all equal)."""
    return np.where(valid, within_list_min_max(cf_scores, valid), 0.0).astype(np.float32)


def positional_cf(lengths: Sequence[int], width: int) -> np.ndarray:
    """CF scores from list order when none are given: 1 for the first candidate, 0 for the last."""
    out = np.zeros((len(lengths), width), dtype=np.float32)
    for n, length in enumerate(lengths):
        out[n, :length] = np.linspace(1.0, 0.0, length) if length > 1 else 1.0
    return out
