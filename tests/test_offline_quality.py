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


def _named_after(terms: list[str], keywords) -> bool:
    return any(t.startswith(k) for t in terms for k in keywords)


def _name_terms(name: str) -> list[str]:
    """'Critical Noise & Commute Buyers' -> ['noise', 'commute'] (a '(P3)' suffix and the noun dropped)."""
    head = name.split(" (")[0].removeprefix("Critical ").rsplit(" ", 1)[0]
    return [] if head == "General" else [t.lower() for t in head.split(" & ")]


@pytest.mark.slow
def test_persona_names_say_what_the_group_cares_about(demo_ws):
    """No name is made of stop words, generic review words ("Does & Job", "Described & Works") or the item's
    own title words; a persona whose evidence mostly voices one planted reason is named with one of that
    reason's keywords far more often than with a keyword of another reason of its category."""
    import collections

    import pandas as pd

    from persona4rec.demo.catalogue import all_reasons
    from persona4rec.offline.extractive import uninformative_words
    from persona4rec.offline.records import load_personas

    planted = pd.read_parquet(demo_ws.data_dir / "planted_reviews.parquet")
    reason_of = {f"{u}|{i}": r for u, i, r in zip(planted["user_id"], planted["item_id"], planted["reason_id"])}
    items = pd.read_parquet(demo_ws.data_dir / "items.parquet")
    titles = dict(zip(items["item_id"].astype(str), items["title"]))
    reasons = all_reasons()
    own = rival = scored_personas = 0
    for item_id, record in load_personas(demo_ws).items():
        if record.summary_only:
            continue
        assert len({p.name for p in record.personas}) == len(record.personas), record.personas
        stop = uninformative_words(titles[item_id])
        for persona in record.personas:
            terms = _name_terms(persona.name)
            assert not set(terms) & stop, (persona.name, titles[item_id])
            labels = [reason_of.get(k) for k in record.evidence[persona.id]]
            voiced = [r for r in labels if isinstance(r, str)]
            if len(voiced) * 2 < len(labels):
                continue  # mostly generic reviews: no planted reason to name
            category, reason = reasons[collections.Counter(voiced).most_common(1)[0][0]]
            others = [r.keywords for r in category.reasons if r.key != reason.key]
            scored_personas += 1
            own += _named_after(terms, reason.keywords)
            rival += sum(_named_after(terms, k) for k in others) / len(others)
    # measured at seed 0 (24 items, 90 users): own 0.73, another reason's 0.03; before the filter (names
    # such as "Compared & Options", "Does & Job") own was 0.60 and 107 of 154 names held such a word
    assert scored_personas >= 30
    assert own / scored_personas >= 0.6
    assert own >= 5 * rival
