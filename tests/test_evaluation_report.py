"""Workspace-mode evaluation and the report writer: merged metrics.json, report.md sections, figures."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from persona4rec.cli import main
from persona4rec.evaluation.report import ReportSection, markdown_table, merge_metrics, read_metrics, write_report
from persona4rec.io import write_parquet
from persona4rec.workspace import Workspace


@pytest.fixture
def workspace(tmp_path):
    rows = []
    for u in range(10):
        items = [(u + j) % 12 for j in range(5)]
        rows += [(f"u{u}", f"i{i}", "train") for i in items[:3]]
        rows += [(f"u{u}", f"i{items[3]}", "valid"), (f"u{u}", f"i{items[4]}", "test")]
    with Workspace.create(tmp_path / "ws") as ws:
        write_parquet(ws.data_dir / "split.parquet", pd.DataFrame(rows, columns=["user_id", "item_id", "split"]))
    return Workspace.open(tmp_path / "ws")


def test_workspace_evaluation_merges_without_clobbering(workspace, capsys):
    merge_metrics(workspace, "bench", {"latency_ms": 0.1})
    assert main(["candidates", str(workspace.root), "--generator", "pop", "--no-progress"]) == 0
    assert "candidate recall" in capsys.readouterr().out
    assert main(["evaluate", str(workspace.root), "--generator", "pop", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    metrics = read_metrics(workspace)
    assert metrics["bench"] == {"latency_ms": 0.1}
    test = metrics["generators"]["pop"]["test"]
    assert test["overall"] == pytest.approx(out["overall"]) and test["overall"]["users"] == 10
    assert set(test["segments@10"]) == {"warm", "cold", "head", "tail"}
    exported = workspace.root.parent / "authors"
    assert (
        main(
            [
                "evaluate",
                str(workspace.root),
                "--generator",
                "pop",
                "--split",
                "valid",
                "--export-authors",
                str(exported),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        main(
            [
                "evaluate",
                "--candidates",
                str(exported / "candidate.jsonl"),
                "--gt",
                str(exported / "gt.jsonl"),
                "--json",
            ]
        )
        == 0
    )
    same = json.loads(capsys.readouterr().out)["overall"]
    metrics = read_metrics(workspace)
    assert set(metrics["generators"]["pop"]) == {"valid", "test"} and "bench" in metrics
    assert metrics["generators"]["pop"]["valid"]["overall"] == pytest.approx(same)
    report = (workspace.reports_dir / "report.md").read_text()
    assert "First-stage generators" in report and "| pop | test | 10 |" in report
    assert (workspace.reports_dir / "figures" / "generators--ndcg10.html").exists()
    assert main(["evaluate", str(workspace.root), "--generator", "bpr"]) == 2
    assert "persona4rec candidates" in capsys.readouterr().err


def test_write_report_keeps_every_section(workspace):
    import plotly.graph_objects as go

    table = pd.DataFrame({"model": ["a", "b"], "NDCG@10": [0.1234567, 0.2]})
    write_report(
        workspace,
        [
            ReportSection(
                key="first",
                title="First",
                text="hello",
                tables=[("T", table)],
                figures=[("bars", go.Figure(go.Bar(x=["a"], y=[1])))],
                metrics={"x": 1, "nested": {"a": 1}},
            )
        ],
    )
    write_report(workspace, [ReportSection(key="second", title="Second", metrics={"y": 2})])
    write_report(workspace, [ReportSection(key="first", title="First again", metrics={"nested": {"b": 2}})])
    report = (workspace.reports_dir / "report.md").read_text()
    assert report.index("## First again") < report.index("## Second")  # first-seen order kept
    metrics = read_metrics(workspace)
    assert metrics["first"] == {"x": 1, "nested": {"a": 1, "b": 2}} and metrics["second"] == {"y": 2}
    figures = workspace.reports_dir / "figures"
    assert (figures / "first--bars.html").exists() and (figures / "plotly.min.js").exists()
    assert markdown_table(table).splitlines()[2] == "| a | 0.1235 |"


def test_reordered_lists_are_tested_against_their_generator(workspace):
    from persona4rec.candidates.generate import generate_candidates, load_candidates
    from persona4rec.evaluation.workspace_eval import compare_to_generator, ranked_lists

    generate_candidates(workspace, "pop", k=5)
    lists = ranked_lists(load_candidates(workspace, "pop"), "test")
    split = pd.read_parquet(workspace.data_dir / "split.parquet").query("split == 'test'")
    oracle = {}
    for user, items in lists.items():  # move the target to the top when it is in the list
        target = split.loc[split["user_id"] == user, "item_id"].iloc[0]
        oracle[user] = [target] + [i for i in items if i != target] if target in items else items
    evaluation, comparison = compare_to_generator(workspace, "pop", oracle, name="oracle", samples=500)
    hits = sum(split.set_index("user_id").loc[u, "item_id"] in items for u, items in lists.items())
    assert evaluation.overall["NDCG@10"] == pytest.approx(hits / 10)
    assert comparison.users == 10 and comparison.losses == 0
    assert comparison.mean_difference == pytest.approx(evaluation.overall["NDCG@10"] - comparison.baseline_mean)
