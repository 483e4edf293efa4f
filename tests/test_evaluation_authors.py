"""The paper authors' JSONL formats, scored with their eval.py's conventions, and `persona4rec evaluate`."""

from __future__ import annotations

import gzip
import json
import math

import pytest

from persona4rec.authors.evaluation import evaluate_files, read_candidates, read_gt, write_candidates
from persona4rec.cli import main
from persona4rec.errors import InputError


def write_lines(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def cand(user, items):
    return {
        "user_id": user,
        "topk": 20,
        "results": [{"item_id": i, "score": 1.0 - n / 100} for n, i in enumerate(items)],
    }


@pytest.fixture
def files(tmp_path):
    gt = write_lines(
        tmp_path / "gt.jsonl",
        [
            {"user_id": "a", "item_id": "t"},
            {"user_id": "b", "item_id": "t"},
            {"user_id": "c", "item_id": "t"},
            {"user_id": "d", "item_id": "t"},
            {"user_id": "d", "item_id": "t2"},
            {"user_id": "e", "item_id": "t"},
            {"user_id": "nocand", "item_id": "t"},
        ],
    )
    rows = [
        cand("a", ["[PAD]", "x", "t"]),  # PAD holds rank 1 -> target at 3
        {"user_id": "b", "results": [{"item_id": "x"}, {"item_id": ""}, {"score": 1}, {"item_id": "t"}]},
        cand("c", []),  # no results: skipped
        cand("d", ["x", "t2", "t"]),  # first of the two positives: rank 2
        cand("e", ["x", "y"]),  # miss
        cand("stranger", ["t"]),  # not in gt: skipped
        "",
    ]  # blank line: ignored
    candidates = write_lines(tmp_path / "cand.jsonl", rows)
    return candidates, gt


def test_authors_conventions(files):
    candidates, gt = files
    result = evaluate_files(candidates, gt, ks=(1, 2, 3))
    o = result.overall
    assert o["users"] == 4  # a, b, d, e ("c" empty, "stranger" not in gt, "nocand" absent)
    # ranks: a 3, b 2 (empty/missing item_id entries dropped), d 2, e none
    assert o["HR@1"] == 0.0
    assert o["HR@2"] == pytest.approx(2 / 4) and o["HR@3"] == pytest.approx(3 / 4)
    assert o["MRR@3"] == pytest.approx((1 / 3 + 1 / 2 + 1 / 2) / 4)
    assert o["NDCG@3"] == pytest.approx((0.5 + 2 / math.log2(3)) / 4)
    assert result.notes["pad_entries"] == 1 and result.notes["scored_lines"] == 4


def test_scenarios_follow_the_review_file(files, tmp_path):
    candidates, gt = files
    reviews = [
        {"user_id": u, "parent_asin": "zz"} for u, n in (("a", 1), ("b", 5), ("d", 9), ("e", 9)) for _ in range(n)
    ]
    reviews += [{"user_id": "q", "parent_asin": "t"}] * 8 + [{"user_id": "q", "parent_asin": "t2"}]
    path = write_lines(tmp_path / "reviews.jsonl", reviews)
    result = evaluate_files(candidates, gt, ks=(10,), reviews_path=path, scenarios=True)
    # user counts among candidate users only: a 1, b 5, d 9, e 9 -> sorted [1, 5, 9, 9]:
    # warm >= sorted[int(3.2)-1] = 9 -> {d, e}; cold <= sorted[int(0.8)] = 1 -> {a}
    # gt items of candidate users: t 8, t2 1 -> head >= sorted[0] = 1 -> both; tail <= 1 -> {t2}
    assert result.segment_sizes == {"warm_users": 2, "cold_users": 1, "head_items": 2, "tail_items": 1}
    assert result.scenarios["warm"]["users"] == 2  # d (rank 2) and e (miss)
    assert result.scenarios["warm"]["NDCG@10"] == pytest.approx(1 / math.log2(3) / 2)
    assert result.scenarios["cold"] == {"HR@10": 1.0, "MRR@10": pytest.approx(1 / 3), "NDCG@10": 0.5, "users": 1}
    assert result.scenarios["head"]["users"] == 4  # a, b, d, e
    assert result.scenarios["tail"]["users"] == 1  # d, whose positives include t2
    with pytest.raises(InputError, match="--reviews"):
        evaluate_files(candidates, gt, scenarios=True)


def test_malformed_lines_name_file_line_and_field(tmp_path):
    bad_json = write_lines(tmp_path / "bad.jsonl", [{"user_id": "a", "item_id": "t"}, "{not json"])
    with pytest.raises(InputError, match=r"bad.jsonl, line 2: not valid JSON"):
        read_gt(bad_json)
    no_user = write_lines(tmp_path / "nouser.jsonl", [{"item_id": "t"}])
    with pytest.raises(InputError, match=r"line 1, field 'user_id'"):
        read_gt(no_user)
    not_list = write_lines(tmp_path / "cand.jsonl", [cand("a", ["t"]), {"user_id": "b", "results": "t"}])
    with pytest.raises(InputError, match=r"line 2, field 'results'"):
        read_candidates(not_list)


def test_written_candidates_are_padded_to_topk(tmp_path):
    path = tmp_path / "out.jsonl"
    write_candidates(path, [("u", ["a", "b"], [0.9, 0.5]), ("v", [], [])], topk=4)
    lines = [json.loads(l) for l in path.read_text().splitlines()]
    assert [r["item_id"] for r in lines[0]["results"]] == ["a", "b", "[PAD]", "[PAD]"]
    assert lines[0]["topk"] == 4 and lines[0]["results"][-1]["score"] == 0.5
    assert [r["item_id"] for r in lines[1]["results"]] == ["[PAD]"] * 4
    assert [c.items for c in read_candidates(path)] == [["a", "b", "[PAD]", "[PAD]"], ["[PAD]"] * 4]


@pytest.mark.shared_data
def test_real_gt_file_with_constructed_candidates(shared_data, tmp_path, capsys):
    """The authors' real 3.5_gt.jsonl.gz; user n gets its target at rank n % 25 + 1 (beyond 20: absent),
    behind "[PAD]" entries; the CLI's JSON equals the formula computed here."""
    gt_path = shared_data / "persona4rec-authors-sample" / "amazon" / "3.5_gt.jsonl.gz"
    with gzip.open(gt_path, "rt") as fh:
        pairs = [json.loads(line) for line in fh if line.strip()]
    gt = read_gt(gt_path)
    assert len(pairs) == 50 and len(gt) == len({p["user_id"] for p in pairs})
    lists, expected = [], {"HR@10": 0.0, "MRR@10": 0.0, "NDCG@10": 0.0}
    for n, user in enumerate(sorted(gt)):
        rank = n % 25 + 1
        items = ["[PAD]"] * 20
        if rank <= 20:
            items[rank - 1] = next(iter(gt[user]))
        if rank <= 10:
            expected["HR@10"] += 1
            expected["MRR@10"] += 1 / rank
            expected["NDCG@10"] += 1 / math.log2(rank + 1)
        lists.append((user, items, [0.0] * 20))
    cand_path = tmp_path / "candidate.jsonl"
    write_candidates(cand_path, lists)
    assert main(["evaluate", "--candidates", str(cand_path), "--gt", str(gt_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["overall"]["users"] == len(gt)
    for key, total in expected.items():
        assert out["overall"][key] == pytest.approx(total / len(gt))


def test_cli_file_mode_errors_are_one_line(files, capsys):
    candidates, gt = files
    assert main(["evaluate", "--candidates", str(candidates)]) == 2
    assert "needs both --candidates and --gt" in capsys.readouterr().err
    assert main(["evaluate", "--candidates", str(candidates), "--gt", str(gt), "--ks", "5,x"]) == 2
    assert main(["evaluate", "--candidates", str(candidates), "--gt", str(gt), "--ks", "1,3"]) == 0
    table = capsys.readouterr().out
    assert "NDCG@3" in table and "users: 4" in table
