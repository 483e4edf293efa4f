"""`persona4rec offline ...` end to end, in process (one torch import for the whole module)."""

from __future__ import annotations

import json

import pytest
from offline_tiny import build_tiny_workspace

from persona4rec.cli import main
from persona4rec.offline.records import load_alignment, load_personas, stage_path


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return build_tiny_workspace(tmp_path_factory.mktemp("cli") / "ws")


def test_all_runs_the_five_stages_then_resumes_with_nothing_to_do(ws, capsys):
    assert main(["offline", "all", str(ws.root), "--single", "--no-progress"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == [
        "summaries",
        "aspects",
        "personas",
        "personas_single",
        "profiles",
        "alignment",
    ]
    assert all(" done: " in line for line in lines)
    assert load_personas(ws) and load_alignment(ws)

    assert main(["offline", "aspects", str(ws.root), "--json"]) == 0
    [report] = json.loads(capsys.readouterr().out)
    assert report["status"] == "done" and report["done"] == 0 and report["skipped"] == report["total"] == 18


def test_subset_flags_reach_the_stage(ws, capsys):
    assert main(["offline", "align", str(ws.root), "--users", "2", "--json"]) == 0
    [report] = json.loads(capsys.readouterr().out)
    assert report["total"] == 7 and report["done"] == 0  # u1 (4) and u2 (3)'s train interactions, already aligned


def test_status_checks_personas_and_alignment_coverage(ws, capsys):
    assert main(["offline", "status", str(ws.root), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    rows = {r["stage"]: r for r in status["stages"]}
    assert all(rows[s]["status"] == "done" for s in ("summaries", "aspects", "personas", "alignment"))
    personas = status["personas"]
    assert personas["within_1_to_7"] and personas["items_with_personas"] == len(load_personas(ws))
    assert sum(personas["per_item"].values()) == personas["items_with_personas"]
    assert status["personas_single"]["per_item"] == {"1": personas["items_with_personas"]}
    alignment = status["alignment"]
    assert alignment["covers_all_with_personas"] and alignment["aligned"] == len(load_alignment(ws))
    assert alignment["persona_ids_valid"] == alignment["aligned"]
    assert main(["offline", "status", str(ws.root)]) == 0
    assert "all within 1-7" in capsys.readouterr().out


def test_bad_flag_value_is_one_clear_error(ws, capsys):
    assert main(["offline", "personas", str(ws.root), "--max-personas", "9"]) == 2
    assert "max personas must be in [1, 7]" in capsys.readouterr().err


def test_llm_dry_run_estimates_cost_and_writes_nothing(ws, capsys):
    pytest.importorskip("persona4rec.offline.llm_backend")
    before = stage_path(ws, "personas").read_bytes()
    code = main(
        ["offline", "personas", str(ws.root), "--backend", "llm", "--model", "gpt-4o-mini", "--dry-run", "--json"]
    )
    assert code == 0
    [report] = json.loads(capsys.readouterr().out)
    assert report["status"] == "dry-run" and report["usage"]["calls"] == 3  # C3 is summary-only: no call
    assert report["usage"]["prompt_tokens"] > 0 and report["usage"]["cost_usd"] > 0
    assert stage_path(ws, "personas").read_bytes() == before


def test_unreachable_llm_server_stops_with_exit_3(tmp_path, capsys):
    pytest.importorskip("persona4rec.offline.llm_backend")
    fresh = build_tiny_workspace(tmp_path / "ws")
    code = main(
        [
            "offline",
            "summarize",
            str(fresh.root),
            "--backend",
            "llm",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--model",
            "any",
            "--max-retries",
            "0",
            "--timeout",
            "2",
            "--no-progress",
        ]
    )
    assert code == 3
    assert "re-run the same command to resume" in capsys.readouterr().err
    assert fresh.stage_info("summaries")["status"] == "stopped"
    assert not stage_path(fresh, "summaries").exists() or stage_path(fresh, "summaries").read_text() == ""


def test_llm_dry_run_of_an_item_subset_counts_only_its_alignments(tmp_path, capsys):
    """Before any persona exists, `all --items N --dry-run` must not price alignments of the other items."""
    pytest.importorskip("persona4rec.offline.llm_backend")
    fresh = build_tiny_workspace(tmp_path / "ws")
    code = main(
        [
            "offline",
            "all",
            str(fresh.root),
            "--backend",
            "llm",
            "--model",
            "gpt-4o-mini",
            "--dry-run",
            "--items",
            "2",
            "--json",
        ]
    )
    assert code == 0
    alignment = next(r for r in json.loads(capsys.readouterr().out) if r["stage"] == "alignment")
    from offline_tiny import HELD_OUT, REVIEWS

    in_subset = [(u, i) for u, i, *_ in REVIEWS if i in ("A1", "B2") and (u, i) not in HELD_OUT]
    assert alignment["total"] == len(in_subset) > 0
    assert not stage_path(fresh, "alignment").exists()
