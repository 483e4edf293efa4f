"""The extractive personas against the demo catalogue's planted reasons: far above chance."""

from __future__ import annotations

import pytest

from persona4rec.demo.quality import persona_purity
from persona4rec.errors import WorkspaceError
from persona4rec.offline import stages
from persona4rec.offline.extractive import ExtractiveBackend

demo = pytest.importorskip("persona4rec.demo.catalogue")


@pytest.fixture(scope="module")
def one_torch_thread():
    # On a shared, busy CI machine intra-op threads mostly wait for each other (5x slower measured);
    # restored afterwards so other modules keep their setting.
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory, one_torch_thread):
    ws = demo.build_demo_workspace(tmp_path_factory.mktemp("demo") / "ws", seed=0, n_items=24, n_users=90)
    backend = ExtractiveBackend()
    for run in (stages.run_summaries, stages.run_aspects, stages.run_personas):
        run(ws, backend, progress=False)
    stages.run_personas(ws, backend, single=True, progress=False)
    return ws


@pytest.mark.slow
def test_personas_group_reviews_by_their_planted_reason(demo_ws):
    result = persona_purity(demo_ws)
    assert result["reviews_scored"] > 100
    # Shuffling the reasons among each item's reviews (persona sizes kept) is the chance level.
    assert result["purity"] > result["chance_purity"] + max(0.10, 5 * result["chance_purity_sd"])
    assert result["purity"] > result["one_persona_purity"] + 0.15
    assert result["mean_adjusted_rand"] > 0.2
    assert 2 <= result["mean_personas_per_item"] <= 7


@pytest.mark.slow
def test_single_mode_is_one_persona_purity(demo_ws):
    single, multi = persona_purity(demo_ws, single=True), persona_purity(demo_ws)
    assert single["purity"] == single["one_persona_purity"] == multi["one_persona_purity"]
    assert single["mean_personas_per_item"] == 1


def test_purity_needs_planted_truth(tmp_path):
    from offline_tiny import build_tiny_workspace

    with pytest.raises(WorkspaceError, match="planted"):
        persona_purity(build_tiny_workspace(tmp_path / "ws"))
