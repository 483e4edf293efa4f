"""Builds the small demo workspace the app tests run on (shared by tests/test_app*.py and
tests/test_browser*.py through their session-scoped fixtures).

The synthetic demo catalogue, cut small, through the real pipeline: extractive offline stages (summaries,
aspects, multi and single personas), popularity candidates, their evaluation report, and the persona
index with the user-vector cache built by loading a Reranker once (so the app finds them ready). One review
is rewritten to carry markup, to check it is shown as text everywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

MARKUP_REVIEW = (
    "<script>window.__p4r_xss = 1</script> <b>bold?</b> **not bold** [a link](http://example.com) "
    "$x^2$ :red[not red] I loved this."
)


def plant_markup_review(ws) -> tuple[str, str]:
    """Rewrite the first training review of the first user to MARKUP_REVIEW; returns (user_id, item_id)."""
    import pandas as pd

    from persona4rec.io import write_parquet

    reviews = pd.read_parquet(ws.data_dir / "reviews.parquet")
    split = pd.read_parquet(ws.data_dir / "split.parquet")
    user = sorted(reviews["user_id"].astype(str).unique())[0]
    train = split[(split["user_id"] == user) & (split["split"] == "train")]["item_id"].astype(str).tolist()
    row = reviews.index[(reviews["user_id"] == user) & (reviews["item_id"].astype(str) == train[0])][0]
    reviews.loc[row, "text"] = MARKUP_REVIEW
    reviews.loc[row, "textless"] = False
    write_parquet(ws.data_dir / "reviews.parquet", reviews)
    return user, train[0]


_BUILT: dict[str, object] = {}


def shared_app_workspace(tmp_path_factory):
    """The workspace, built once per test process whichever test module asks first."""
    if "demo" not in _BUILT:
        # A developer may point PERSONA4REC_TEST_APP_WORKSPACE at a copy built by build_app_workspace to
        # skip the few minutes the build takes on a busy machine; CI always builds afresh.
        prebuilt = os.environ.get("PERSONA4REC_TEST_APP_WORKSPACE")
        if prebuilt:
            from persona4rec.workspace import Workspace

            _BUILT["demo"] = Workspace.open(prebuilt)
        else:
            _BUILT["demo"] = build_app_workspace(tmp_path_factory.mktemp("app") / "demo")
    return _BUILT["demo"]


def build_app_workspace(out: Path, n_items: int = 16, n_users: int = 24):
    from persona4rec.candidates.generate import generate_candidates
    from persona4rec.demo.catalogue import build_demo_workspace
    from persona4rec.evaluation.workspace_eval import evaluate_generator, record_generator_evaluation
    from persona4rec.offline.backends import make_backend
    from persona4rec.offline.stages import run_aspects, run_personas, run_summaries
    from persona4rec.rerank import Reranker

    ws = build_demo_workspace(out, seed=0, n_items=n_items, n_users=n_users)
    plant_markup_review(ws)
    backend = make_backend(ws, "extractive")
    run_summaries(ws, backend, progress=False)
    run_aspects(ws, backend, progress=False)
    run_personas(ws, backend, progress=False)
    run_personas(ws, backend, single=True, progress=False)
    generate_candidates(ws, "pop", k=10)
    record_generator_evaluation(ws, evaluate_generator(ws, "pop"))
    for variant in ("multi", "single"):
        Reranker.from_workspace(ws, variant)
    return ws
