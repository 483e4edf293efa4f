"""Resume, clean stops, per-unit failures, dry runs and mixed backends in the offline stage runner."""

from __future__ import annotations

import pytest
from offline_tiny import CountingBackend, build_tiny_workspace

from persona4rec.errors import BudgetExceeded, LLMUnavailable, WorkspaceError
from persona4rec.offline import stages
from persona4rec.offline.extractive import ExtractiveBackend
from persona4rec.offline.records import load_aspects, load_failures, read_raw, stage_path

N_ASPECT_UNITS = 18  # reviews with text in the tiny workspace


@pytest.fixture(scope="module")
def backend():
    return ExtractiveBackend()


@pytest.fixture(scope="module")
def reference(tmp_path_factory, backend):
    """An uninterrupted run: the output every interrupted-and-resumed run must reproduce."""
    ws = build_tiny_workspace(tmp_path_factory.mktemp("reference") / "ws")
    stages.run_all(ws, backend, progress=False)
    return {name: stage_path(ws, name).read_bytes() for name in ("summaries", "aspects", "personas", "alignment")}


@pytest.fixture
def ws(tmp_path):
    return build_tiny_workspace(tmp_path / "ws")


def test_crash_mid_stage_keeps_finished_batches_and_resume_runs_only_the_rest(ws, backend, reference):
    stages.run_summaries(ws, backend, progress=False)
    crashing = CountingBackend(backend, fail_task="extract_aspects", fail_after=8, fail_with=RuntimeError("crash"))
    with pytest.raises(RuntimeError):
        stages.run_aspects(ws, crashing, batch_size=4, progress=False)
    assert len(read_raw(ws, "aspects")) == 8  # two whole batches landed before the crash
    assert ws.stage_info("aspects")["status"] == "failed"

    resumed = CountingBackend(backend)
    report = stages.run_aspects(ws, resumed, batch_size=4, progress=False)
    assert resumed.units["extract_aspects"] == N_ASPECT_UNITS - 8
    assert (report.skipped, report.done) == (8, N_ASPECT_UNITS - 8)
    stages.run_all(ws, backend, progress=False)
    for name, content in reference.items():
        assert stage_path(ws, name).read_bytes() == content, name


def test_torn_last_line_is_redone(ws, backend, reference):
    stages.run_summaries(ws, backend, progress=False)
    stages.run_aspects(ws, backend, progress=False)
    path = stage_path(ws, "aspects")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]) + lines[-1][:25])  # as if killed while writing the last record
    counting = CountingBackend(backend)
    stages.run_aspects(ws, counting, progress=False)
    assert counting.units["extract_aspects"] == 1
    assert path.read_bytes() == reference["aspects"]


@pytest.mark.parametrize("error", [BudgetExceeded("max cost $0.01 reached"), LLMUnavailable("server gone")])
def test_budget_or_unavailable_llm_stops_the_stage_cleanly(ws, backend, error):
    stages.run_summaries(ws, backend, progress=False)
    stopping = CountingBackend(backend, fail_task="extract_aspects", fail_after=4, fail_with=error)
    report = stages.run_aspects(ws, stopping, batch_size=4, progress=False)
    assert report.status == "stopped" and type(error).__name__ in report.stopped_reason
    assert report.done == 4 and len(read_raw(ws, "aspects")) == 4
    info = ws.stage_info("aspects")
    assert info["status"] == "stopped" and "stopped_reason" in info
    assert load_failures(ws) == []  # pending units are not failures: a re-run does them
    report = stages.run_aspects(ws, backend, progress=False)
    assert report.status == "done" and report.done == N_ASPECT_UNITS - 4


def test_run_all_stops_after_a_stopped_stage(ws, backend):
    stopping = CountingBackend(backend, fail_task="extract_aspects", fail_after=0, fail_with=BudgetExceeded("$0"))
    reports = stages.run_all(ws, stopping, progress=False)
    assert [r.stage for r in reports] == ["summaries", "aspects"] and reports[-1].status == "stopped"


def test_failed_units_are_recorded_skipped_and_retried_on_request(ws, backend):
    stages.run_summaries(ws, backend, progress=False)
    flaky = CountingBackend(backend, error_keys={"u1|A1", "u2|B2"})
    report = stages.run_aspects(ws, flaky, progress=False)
    assert (report.done, report.failed) == (N_ASPECT_UNITS - 2, 2)
    failures = load_failures(ws, "aspects")
    assert {f.key for f in failures} == {"u1|A1", "u2|B2"} and failures[0].raw == '{"bad": true}'

    again = CountingBackend(backend)
    report = stages.run_aspects(ws, again, progress=False)
    assert again.units["extract_aspects"] == 0 and report.skipped_failed == 2
    report = stages.run_aspects(ws, again, retry_failed=True, progress=False)
    assert again.units["extract_aspects"] == 2 and report.done == 2
    assert {"u1|A1", "u2|B2"} <= set(load_aspects(ws))


def test_a_failed_summary_does_not_stop_the_persona_stage(ws, backend):
    """Only the unit fails: its item goes on under its title, and the report says how many did."""
    from persona4rec.offline.records import load_personas

    report = stages.run_summaries(ws, CountingBackend(backend, error_keys={"A1"}), progress=False)
    assert report.failed == 1
    stages.run_aspects(ws, backend, progress=False)
    report = stages.run_personas(ws, backend, progress=False)
    assert report.stopped_reason is None and "A1" in load_personas(ws)
    assert report.notes["failed_summaries_replaced_by_title"] == 1
    (ws.offline_dir / "summaries.jsonl").unlink()  # never summarised at all: that is still an error
    with pytest.raises(WorkspaceError, match="have no summary"):
        stages.run_personas(ws, backend, single=True, progress=False)


def test_dry_run_estimates_and_writes_nothing(ws, backend):
    manifest = ws.manifest_path.read_bytes()
    counting = CountingBackend(backend)
    reports = stages.run_all(ws, counting, dry_run=True, progress=False)
    assert [r.status for r in reports] == ["dry-run"] * 5
    assert counting.units == {task: 0 for task in CountingBackend.TASKS}
    assert counting.estimated == ("align", 14)  # later stages are estimated from input sizes
    assert {r.stage: r.pending for r in reports}["aspects"] == N_ASPECT_UNITS
    assert ws.manifest_path.read_bytes() == manifest
    assert list(ws.offline_dir.iterdir()) == []


def test_records_of_another_backend_are_not_mixed_in(ws, backend):
    stages.run_summaries(ws, backend, progress=False)
    other = CountingBackend(backend)
    other.name = "llm:some-model"
    with pytest.raises(WorkspaceError, match="--overwrite"):
        stages.run_summaries(ws, other, progress=False)
    report = stages.run_summaries(ws, other, overwrite=True, progress=False)
    assert report.done == 4 and {r["backend"] for r in read_raw(ws, "summaries").values()} == {"llm:some-model"}
