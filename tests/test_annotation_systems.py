"""More than two systems: the balanced pair design, Bradley-Terry against hand-computed cases, the Holm
correction, per-pair results, and a study of a team's own explanations imported from a file (CLI). The
database tests run on SQLite and on a real PostgreSQL server (tests/conftest.py: db_url)."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest

from persona4rec.annotation.criteria import EXPLANATION_CRITERIA
from persona4rec.annotation.db import open_database
from persona4rec.annotation.design import SystemsExample, balanced_pairs, paired_examples, system_pairs
from persona4rec.annotation.ranking import bradley_terry, comparisons, rank_systems
from persona4rec.annotation.stats import holm, pairwise_results, study_pair_results, study_results
from persona4rec.annotation.study import (
    create_study,
    get_study,
    identify_annotator,
    next_assignment,
    submit_ratings,
)
from persona4rec.cli import main
from persona4rec.errors import InputError

SYSTEMS = ["ours", "theirs", "baseline"]


# -- the design -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_systems", [2, 3, 4, 5])
@pytest.mark.parametrize("n_examples", [1, 7, 30, 61])
def test_every_pair_gets_the_same_number_of_examples_within_one(n_systems, n_examples):
    systems = [f"s{i}" for i in range(n_systems)]
    dealt = balanced_pairs(n_examples, systems, seed=3)
    assert len(dealt) == n_examples
    per_pair = Counter(tuple(sorted(p)) for p in dealt)
    counts = [per_pair.get(tuple(sorted(p)), 0) for p in system_pairs(systems)]
    assert max(counts) - min(counts) <= 1
    assert all(a != b and a in systems and b in systems for a, b in dealt)


def test_roles_balance_over_two_rounds_and_two_systems_keep_their_order():
    systems = ["a", "b", "c", "d"]
    rounds = 2 * len(system_pairs(systems))
    as_a = Counter(a for a, _ in balanced_pairs(rounds, systems, seed=0))
    assert set(as_a.values()) == {3}  # each system is "A" in half of its 6 comparisons
    assert set(balanced_pairs(9, ["x", "y"])) == {("x", "y")}
    assert balanced_pairs(12, systems, seed=1) == balanced_pairs(12, systems, seed=1)


def test_bad_system_lists_are_refused():
    with pytest.raises(InputError, match="at least two"):
        system_pairs(["only"])
    with pytest.raises(InputError, match="twice: a"):
        system_pairs(["a", "b", "a"])


def test_paired_examples_keep_their_pairs_explanations_and_leave_out_incomplete_ones():
    explained = [
        SystemsExample(f"u{i}", f"i{i}", {s: f"{s} on i{i}" for s in SYSTEMS}, item_title=f"T{i}") for i in range(6)
    ]
    explained.append(SystemsExample("u9", "i9", {"ours": "x", "theirs": "y"}))  # no baseline
    paired, left_out = paired_examples(explained, SYSTEMS, seed=2)
    assert left_out == 1 and len(paired) == 6
    for e in paired:
        assert e.explanation_a == f"{e.system_a} on {e.item_id}" and e.explanation_b == f"{e.system_b} on {e.item_id}"
    assert Counter(tuple(sorted((e.system_a, e.system_b))) for e in paired) == {
        tuple(sorted(p)): 2 for p in system_pairs(SYSTEMS)
    }


# -- statistics -----------------------------------------------------------------------------------------


def test_holm_against_a_hand_computed_case():
    # sorted 0.01, 0.02, 0.03, 0.5 times 4, 3, 2, 1 -> 0.04, 0.06, 0.06 (monotone), 0.5
    assert holm([0.03, 0.5, 0.01, 0.02]) == pytest.approx([0.06, 0.5, 0.04, 0.06])
    assert holm([0.4, 0.6]) == pytest.approx([0.8, 0.8])  # 2 x 0.4, then max(0.8, 1 x 0.6): monotone
    adjusted = holm([0.2, math.nan, 0.9])
    assert adjusted[0] == pytest.approx(0.4) and math.isnan(adjusted[1]) and adjusted[2] == pytest.approx(0.9)
    assert holm([0.7, 0.8]) == [1.0, 1.0]


def test_bradley_terry_two_systems_is_the_log_odds_of_winning():
    # 3 wins to 1: theta_a - theta_b = log 3, mean zero -> +-log(3)/2 (every win enters twice: same ratio)
    data = [(0, 1)] * 6 + [(1, 0)] * 2
    strengths = bradley_terry(2, data, alpha=0.0)
    assert strengths == pytest.approx([math.log(3) / 2, -math.log(3) / 2], abs=1e-6)


def test_a_tie_is_half_a_win_each_way():
    index = {"a": 0, "b": 1}
    ratings = [{"system_a": "a", "system_b": "b", "outcome": o} for o in ("system_a", "system_a", "tie")]
    data = comparisons(ratings, index)
    assert Counter(data) == {(0, 1): 5, (1, 0): 1}  # 2.5 wins to 0.5
    assert bradley_terry(2, data, alpha=0.0)[0] - bradley_terry(2, data, alpha=0.0)[1] == pytest.approx(math.log(5))


def test_bradley_terry_on_a_cycle_ranks_everyone_equal_and_a_chain_in_order():
    assert bradley_terry(3, [(0, 1), (1, 2), (2, 0)], alpha=0.0) == pytest.approx([0, 0, 0], abs=1e-9)
    chain = [(0, 1)] * 3 + [(1, 0)] + [(1, 2)] * 3 + [(2, 1)] + [(0, 2)] * 3 + [(2, 0)]
    s = bradley_terry(3, chain, alpha=0.0)
    assert s[0] > s[1] > s[2] and sum(s) == pytest.approx(0, abs=1e-9)


def _ratings(pairs_and_outcomes):
    """Rating records: one example per entry, one criterion."""
    return [
        {"example_id": i, "criterion": "intuitiveness", "system_a": a, "system_b": b, "outcome": o}
        for i, (a, b, o) in enumerate(pairs_and_outcomes)
    ]


def test_equal_strengths_share_a_rank():
    ratings = _ratings([("ours", "theirs", "tie")] * 3)
    ranking = rank_systems(ratings, EXPLANATION_CRITERIA[:1], SYSTEMS[:2], bootstrap=5)
    assert [s.rank for s in ranking] == [1, 1]


def test_rank_systems_orders_by_strength_with_intervals_around_it():
    outcomes = [("ours", "theirs", "system_a")] * 8 + [("theirs", "ours", "system_a")] * 2
    outcomes += [("theirs", "baseline", "system_a")] * 8 + [("baseline", "theirs", "system_a")] * 2
    outcomes += [("baseline", "ours", "system_b")] * 9 + [("ours", "baseline", "tie")]
    ranking = rank_systems(_ratings(outcomes), EXPLANATION_CRITERIA[:1], SYSTEMS, bootstrap=100, seed=1)
    assert [s.system for s in ranking] == ["ours", "theirs", "baseline"] and [s.rank for s in ranking] == [1, 2, 3]
    for s in ranking:
        assert s.ci_low <= s.strength <= s.ci_high
        assert s.comparisons == 20
    assert ranking == rank_systems(_ratings(outcomes), EXPLANATION_CRITERIA[:1], SYSTEMS, bootstrap=100, seed=1)


def test_pairwise_results_orient_each_example_and_correct_over_pairs_and_criteria():
    outcomes = [("ours", "theirs", "system_a"), ("theirs", "ours", "system_b"), ("theirs", "ours", "tie")]
    outcomes += [("baseline", "ours", "system_a")]
    pairs = pairwise_results(_ratings(outcomes), EXPLANATION_CRITERIA, SYSTEMS)
    assert len(pairs) == 3 * len(EXPLANATION_CRITERIA)
    first = next(p for p in pairs if p.result.criterion == "intuitiveness")
    assert (first.system_a, first.system_b) == ("ours", "theirs")
    assert (first.result.wins, first.result.ties, first.result.losses) == (2, 1, 0)
    vs_baseline = next(
        p for p in pairs if p.result.criterion == "intuitiveness" and {p.system_a, p.system_b} == {"ours", "baseline"}
    )
    assert (vs_baseline.system_a, vs_baseline.result.wins, vs_baseline.result.losses) == ("ours", 0, 1)
    raw = [p.result.sign_test_p for p in pairs]
    assert [p.result.sign_test_p_holm for p in pairs] == pytest.approx(holm(raw))


# -- a study of three systems ---------------------------------------------------------------------------


@pytest.fixture()
def db(db_url):
    database = open_database(db_url)
    yield database
    database.dispose()


def test_a_three_system_study_stores_each_examples_pair_and_reports_every_pair(db):
    explained = [SystemsExample(f"u{i}", f"i{i}", {s: f"{s} says {i}" for s in SYSTEMS}) for i in range(6)]
    examples, _ = paired_examples(explained, SYSTEMS, seed=0)
    info = create_study(db, "three", "explanation", *SYSTEMS[:2], examples, systems=SYSTEMS, annotators_per_example=2)
    assert get_study(db, info.id).systems == tuple(SYSTEMS)
    for name in ("ann", "bob"):  # both always pick the explanation written by "ours" when shown, else left
        me = identify_annotator(db, info.id, name)
        while (view := next_assignment(db, info.id, me.id)) is not None:
            pick = "A" if view.explanation_shown_a.startswith("ours") else "B"
            if "ours" not in view.explanation_shown_a + view.explanation_shown_b:
                pick = "tie"
            submit_ratings(db, view.assignment_id, {c.key: pick for c in EXPLANATION_CRITERIA}, annotator_id=me.id)
    pairs = {(p.system_a, p.system_b, p.result.criterion): p.result for p in study_pair_results(db, info.id)}
    ours_theirs = pairs[("ours", "theirs", "intuitiveness")]
    assert (ours_theirs.wins, ours_theirs.losses, ours_theirs.n) == (4, 0, 4)  # 2 examples x 2 annotators
    assert pairs[("theirs", "baseline", "intuitiveness")].ties == 4
    # the two-system view of a larger study is its first pair
    first = study_results(db, info.id)[0]
    assert (first.wins, first.losses) == (ours_theirs.wins, ours_theirs.losses)


def test_create_with_a_teams_explanations_file_from_the_cli(db, tmp_path, capsys):
    rows = ["user_id,item_id,system,explanation,item_title"]
    for i in range(4):
        for s in SYSTEMS:
            rows.append(f'u{i},i{i},{s},"{s}, on item {i}",Item {i}')
    rows.append("u9,i9,ours,only one system,")
    path = tmp_path / "explanations.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    url = str(db.engine.url.render_as_string(hide_password=False))
    argv = ["study", "create", "--url", url, "--name", "team", "--systems", ",".join(SYSTEMS)]
    assert main([*argv, "--explanations", str(path)]) == 0
    out = capsys.readouterr().out
    assert "ours vs theirs vs baseline" in out and "left out 1" in out
    info = get_study(db, "team")
    assert info.systems == tuple(SYSTEMS) and info.examples_per_study == 4
    assert main(["study", "ranking", "--url", url, "--name", "team", "--json", "--bootstrap", "10"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert len(document["pairs"]) == 3 * 5 and len(document["ranking"]) == 3 * 5

    path.write_text("user_id,item_id,system\nu1,i1,ours\n", encoding="utf-8")
    assert main([*argv[:5], "other", *argv[6:], "--explanations", str(path)]) == 2
    assert "explanation" in capsys.readouterr().err
    path.write_text("user_id,item_id,system,explanation\nu1,i1,ours,x\nu1,i1,ours,y\n", encoding="utf-8")
    assert main([*argv[:5], "other", *argv[6:], "--explanations", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "second explanation" in err
