"""How well personas line up with the planted truth of the synthetic demo catalogue.

The demo keeps, in data/planted_reviews.parquet, the latent reason each review voices (or none, for noise
picks and generic reviews). A persona's evidence is the set of reviews it was built from, so:
- purity: for each persona, the share of its evidence reviews (those with a planted reason) whose reason
  is the persona's majority reason; the mean over personas weighted by that count (= sum of majority
  counts / reviews scored);
- chance: the same with the reasons shuffled among each item's scored evidence reviews (persona sizes
  kept), averaged over `shuffles` permutations: what purity a partition blind to the text would get;
- one_persona_purity: purity if each item had a single persona (the majority reason per item);
- the number of personas per item against the number of distinct planted reasons in its evidence.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..data.schema import review_key
from ..errors import WorkspaceError
from ..offline.records import load_personas
from ..workspace import Workspace

PLANTED_REVIEWS = "planted_reviews.parquet"


def _planted_reasons(ws: Workspace) -> dict[str, str | None]:
    import pandas as pd

    path = ws.data_dir / PLANTED_REVIEWS
    if not path.exists():
        raise WorkspaceError(
            f"{path}: missing; persona purity needs the demo catalogue's planted truth "
            "(`persona4rec demo` / persona4rec.demo.catalogue.build_demo_workspace)"
        )
    planted = pd.read_parquet(path)
    return {
        review_key(str(u), str(i)): (None if pd.isna(r) else str(r))
        for u, i, r in zip(planted["user_id"], planted["item_id"], planted["reason_id"])
    }


def _majority_total(groups: list[list[str]]) -> int:
    return sum(Counter(g).most_common(1)[0][1] for g in groups if g)


def persona_purity(ws: Workspace, *, single: bool = False, shuffles: int = 20, seed: int = 0) -> dict[str, Any]:
    """Purity of the workspace's personas against the planted reasons, with its chance level."""
    import numpy as np
    from scipy.stats import spearmanr
    from sklearn.metrics import adjusted_rand_score

    reasons = _planted_reasons(ws)
    records = load_personas(ws, single=single)
    if not records:
        raise WorkspaceError(f"{ws.root}: no personas; run `persona4rec offline personas {ws.root}` first")
    rng = np.random.default_rng(seed)
    items = []  # per item: list of per-persona reason lists (scored reviews only)
    unscored = 0
    for record in records.values():
        if record.summary_only:
            continue
        groups = []
        for persona in record.personas:
            keys = record.evidence.get(persona.id, [])
            labels = [reasons.get(k) for k in keys]
            unscored += sum(label is None for label in labels)
            groups.append([label for label in labels if label is not None])
        items.append((record, groups))

    scored = sum(len(g) for _, groups in items for g in groups)
    if scored == 0:
        raise WorkspaceError(f"{ws.root}: no persona evidence carries a planted reason")
    purity = sum(_majority_total(groups) for _, groups in items) / scored
    one_persona = sum(_majority_total([[x for g in groups for x in g]]) for _, groups in items) / scored
    chance_runs = []
    for _ in range(shuffles):
        total = 0
        for _, groups in items:
            pooled = np.array([x for g in groups for x in g], dtype=object)
            rng.shuffle(pooled)
            sizes = np.cumsum([0] + [len(g) for g in groups])
            total += _majority_total([list(pooled[a:b]) for a, b in zip(sizes[:-1], sizes[1:])])
        chance_runs.append(total / scored)

    n_personas = [len(record.personas) for record, _ in items]
    n_reasons = [len({x for g in groups for x in g}) for _, groups in items]
    aris = []
    for _, groups in items:
        truth = [x for g in groups for x in g]
        found = [k for k, g in enumerate(groups) for _ in g]
        if len(truth) >= 2:
            aris.append(adjusted_rand_score(truth, found))
    rho = spearmanr(n_personas, n_reasons).statistic if len(set(n_personas)) > 1 and len(set(n_reasons)) > 1 else None
    return {
        "mode": "single" if single else "multi",
        "items": len(items),
        "summary_only_items": len(records) - len(items),
        "personas": sum(n_personas),
        "reviews_scored": scored,
        "reviews_without_planted_reason": unscored,
        "purity": round(purity, 4),
        "chance_purity": round(float(np.mean(chance_runs)), 4),
        "chance_purity_sd": round(float(np.std(chance_runs)), 4),
        "one_persona_purity": round(one_persona, 4),
        "mean_adjusted_rand": round(float(np.mean(aris)), 4) if aris else None,
        "mean_personas_per_item": round(float(np.mean(n_personas)), 3),
        "mean_planted_reasons_per_item": round(float(np.mean(n_reasons)), 3),
        "personas_equal_reasons_share": round(float(np.mean([p == r for p, r in zip(n_personas, n_reasons)])), 4),
        "personas_minus_reasons_mean": round(float(np.mean([p - r for p, r in zip(n_personas, n_reasons)])), 3),
        "personas_vs_reasons_spearman": None if rho is None else round(float(rho), 4),
    }
