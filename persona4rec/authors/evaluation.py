"""The paper authors' evaluation files, read and scored exactly as their evaluation/eval.py does.

Formats (github.com/legenduck/PERSONA4REC, evaluation/README.md):
    gt line:        {"user_id": "U", "item_id": "I"}        (several lines per user = several positives)
    candidate line: {"user_id": "U", "topk": 20, "results": [{"item_id": "I", "score": 0.35}, ...], ...}
    review line:    {"user_id": "U", "parent_asin"|"business_id"|"item_id": "I", ...}   (for --scenarios)

Conventions of their eval.py that change numbers, all kept here:
  * "[PAD]" is an ordinary entry: it occupies its position (later items rank lower) and never matches.
    (In their files it is RecBole's padding item, scored and ranked like any item.)
  * result entries with a missing or empty item_id are dropped before ranks are assigned.
  * candidate lines for users absent from the gt file, or with no results, are skipped; the metric is the
    mean over the remaining candidate lines (gt users without a candidate line do not count).
  * the first position holding any of the user's gt items is the rank.
  * scenario counts use every line of the review file, restricted to the candidate file's users and to
    the gt items of those users; segments follow segments.split_by_percentile; reported @10.
Unlike their script we refuse malformed lines (bad JSON, missing user_id/item_id, results not a list)
with the file, line and field instead of silently skipping them; gzip files are read transparently;
numeric ids are read as strings (their script would compare 123 and "123" as different ids).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..evaluation.segments import Segments, build_segments, segment_metrics
from ..io import atomic_path, read_json_objects
from ..metrics import DEFAULT_KS, PAD, rank_metrics

ITEM_KEYS = ("parent_asin", "business_id", "item_id")  # Amazon 2023, Yelp, canonical


@dataclass
class CandidateLine:
    line: int
    user_id: str
    items: list[str]
    scores: list[float | None]


@dataclass
class AuthorsEvaluation:
    overall: dict[str, float]  # rank_metrics keys ("HR@10", ...) and "users"
    scenarios: dict[str, dict[str, float]] | None = None  # segment -> metrics @10
    segment_sizes: dict[str, int] | None = None
    ks: tuple[int, ...] = DEFAULT_KS
    notes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ks": list(self.ks), "overall": self.overall}
        if self.scenarios is not None:
            out["scenarios@10"] = self.scenarios
            out["segment_sizes"] = self.segment_sizes
        out.update(self.notes)
        return out


def _required_str(obj: dict, key: str, path, line: int) -> str:
    value = obj.get(key)
    if value is None or value == "":
        raise InputError("missing or empty", path=path, line=line, field=key)
    if not isinstance(value, (str, int)):
        raise InputError(f"expected a string, got {type(value).__name__}", path=path, line=line, field=key)
    return str(value)


def read_gt(path: str | Path) -> dict[str, set[str]]:
    """user_id -> set of ground-truth item ids."""
    gt: dict[str, set[str]] = {}
    for line, obj in read_json_objects(path):
        gt.setdefault(_required_str(obj, "user_id", path, line), set()).add(_required_str(obj, "item_id", path, line))
    return gt


def read_candidates(path: str | Path) -> list[CandidateLine]:
    """Every candidate line in file order; entries without an item_id are dropped as in eval.py."""
    out = []
    for line, obj in read_json_objects(path):
        user = _required_str(obj, "user_id", path, line)
        results = obj.get("results", [])
        if not isinstance(results, list):
            raise InputError(f"expected a list, got {type(results).__name__}", path=path, line=line, field="results")
        items, scores = [], []
        for position, entry in enumerate(results):
            if entry and not isinstance(entry, dict):
                raise InputError(f"entry {position} is not an object", path=path, line=line, field="results")
            if entry and entry.get("item_id"):
                items.append(str(entry["item_id"]))
                scores.append(entry.get("score"))
        out.append(CandidateLine(line=line, user_id=user, items=items, scores=scores))
    return out


def read_review_counts(
    path: str | Path, users: set[str], items: set[str], progress: bool = False
) -> tuple[dict[str, int], dict[str, int]]:
    """(item counts, user counts) over every review line, for the given items and users only.

    A JSONL file needs user_id and one of parent_asin / business_id / item_id per line; a .parquet file
    is read as canonical reviews (user_id, item_id). A review dump of millions of lines is the long step
    of an evaluation: with `progress`, a bar counts its lines on a terminal (never in logs or pipes).
    """
    from tqdm import tqdm

    item_counts: dict[str, int] = {}
    user_counts: dict[str, int] = {}

    def count(user: str, item: str) -> None:
        if item in items:
            item_counts[item] = item_counts.get(item, 0) + 1
        if user in users:
            user_counts[user] = user_counts.get(user, 0) + 1

    if str(path).endswith(".parquet"):
        import pandas as pd

        frame = pd.read_parquet(path, columns=["user_id", "item_id"])
        for user, item in zip(frame["user_id"].astype(str), frame["item_id"].astype(str)):
            count(user, item)
        return item_counts, user_counts
    lines = tqdm(
        read_json_objects(path),
        desc=Path(path).name,
        unit=" lines",
        disable=None if progress else True,
        mininterval=0.5,
    )
    for line, obj in lines:
        key = next((k for k in ITEM_KEYS if k in obj), None)
        if key is None:
            raise InputError(
                f"no item field (expected one of {', '.join(ITEM_KEYS)})", path=path, line=line, field="item_id"
            )
        count(_required_str(obj, "user_id", path, line), _required_str(obj, key, path, line))
    return item_counts, user_counts


def scored_lines(candidates: list[CandidateLine], gt: dict[str, set[str]]) -> list[CandidateLine]:
    """The candidate lines eval.py scores: user in gt, at least one result."""
    return [c for c in candidates if c.user_id in gt and c.items]


def evaluate_files(
    candidates_path: str | Path,
    gt_path: str | Path,
    *,
    ks: Iterable[int] = DEFAULT_KS,
    reviews_path: str | Path | None = None,
    scenarios: bool = False,
    progress: bool = False,
) -> AuthorsEvaluation:
    """Overall HR/MRR/NDCG@ks and, with a review file, the warm/cold/head/tail segments @10."""
    ks = tuple(ks)
    gt = read_gt(gt_path)
    candidates = read_candidates(candidates_path)
    scored = scored_lines(candidates, gt)
    overall = rank_metrics([c.items for c in scored], [gt[c.user_id] for c in scored], ks)
    result = AuthorsEvaluation(
        overall=overall,
        ks=ks,
        notes={
            "gt_users": len(gt),
            "candidate_lines": len(candidates),
            "scored_lines": len(scored),
            "pad_entries": sum(c.items.count(PAD) for c in scored),
        },
    )
    if scenarios:
        if reviews_path is None:
            raise InputError("--scenarios needs --reviews (a review file to count interactions)", field="reviews")
        segments = authors_segments(candidates, gt, reviews_path, progress=progress)
        result.scenarios = segment_metrics(
            [c.user_id for c in scored], [c.items for c in scored], [gt[c.user_id] for c in scored], segments, k=10
        )
        result.segment_sizes = segments.sizes()
    return result


def authors_segments(
    candidates: list[CandidateLine], gt: dict[str, set[str]], reviews_path, progress: bool = False
) -> Segments:
    users = {c.user_id for c in candidates}
    items = set().union(*(gt[u] for u in users if u in gt)) if users else set()
    item_counts, user_counts = read_review_counts(reviews_path, users, items, progress=progress)
    return build_segments(user_counts, item_counts)


# -- writing ----------------------------------------------------------------------------------------
def write_gt(path: str | Path, pairs: Iterable[tuple[str, str]]) -> int:
    """One {"user_id","item_id"} line per pair, written atomically."""
    n = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for user, item in pairs:
            fh.write(json.dumps({"user_id": str(user), "item_id": str(item)}) + "\n")
            n += 1
    return n


def write_candidates(path: str | Path, lists: Iterable[tuple[str, list[str], list[float]]], *, topk: int = 20) -> int:
    """One candidate line per (user, items, scores), cut to `topk` and padded with "[PAD]" to exactly
    `topk` results (a pad repeats the last real score, 0.0 for an empty list, so scores never rise)."""
    n = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for user, items, scores in lists:
            results = [{"item_id": str(i), "score": float(s)} for i, s in zip(items[:topk], scores[:topk])]
            pad_score = results[-1]["score"] if results else 0.0
            results += [{"item_id": PAD, "score": pad_score}] * (topk - len(results))
            fh.write(json.dumps({"user_id": str(user), "topk": topk, "results": results}) + "\n")
            n += 1
    return n


def workspace_to_authors(
    candidates_frame, split, out_dir: str | Path, *, which: str = "test", topk: int = 20
) -> tuple[Path, Path]:
    """Export a candidates/<generator>.parquet split and its targets as the authors' two files."""
    out_dir = Path(out_dir)
    rows = candidates_frame[candidates_frame["split"] == which].sort_values(["user_id", "rank"], kind="stable")
    lists = [(user, list(group["item_id"]), list(group["score"])) for user, group in rows.groupby("user_id", sort=True)]
    truth = split[split["split"] == which]
    cand_path, gt_path = out_dir / "candidate.jsonl", out_dir / "gt.jsonl"
    write_candidates(cand_path, lists, topk=topk)
    write_gt(gt_path, zip(truth["user_id"], truth["item_id"]))
    return cand_path, gt_path
