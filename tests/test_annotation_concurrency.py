"""Many threads and several processes rate one study at once, double-clicking every submit, on SQLite and on
a real PostgreSQL server: the final rows are exact (none lost, none duplicated) and no "database is locked"
(or serialization failure) surfaces.

Run with `-s` to see the figures (threads, processes, submissions, rows, seconds); they are also recorded as
the test's `concurrency` property (in a --junitxml report). The worker processes are spawned and import
only SQLAlchemy and persona4rec.annotation (no torch)."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import case, func, select

EXAMPLES = 60
ANNOTATORS_PER_EXAMPLE = 3
MAIN_THREADS = 16
PROCESSES = 3
THREADS_PER_PROCESS = 6
CRITERIA = ("intuitiveness", "relatability", "consistency", "persuasiveness", "specificity")


def _answers(name: str, assignment_id: int) -> dict[str, str]:
    return {c: ("A", "B", "tie")[(assignment_id + i + len(name)) % 3] for i, c in enumerate(CRITERIA)}


def _annotate(db, study: str, name: str) -> dict:
    """One annotator working through their queue. Every submit is sent twice at the same moment (a
    double click); every third assignment is then revised (one criterion changed), also sent twice."""
    from persona4rec.annotation.study import identify_annotator, next_assignment, submit_ratings

    me = identify_annotator(db, study, name)
    final: dict[int, dict[str, str]] = {}
    submissions = revisions = 0
    with ThreadPoolExecutor(2) as clicks:
        while (shown := next_assignment(db, study, me.id)) is not None:
            aid = shown.assignment_id
            answers = _answers(name, aid)
            sid = f"{name}/{aid}"
            outcomes = sorted(
                r.outcome
                for r in clicks.map(lambda _: submit_ratings(db, aid, answers, "", sid, annotator_id=me.id), range(2))
            )
            assert outcomes == ["duplicate", "stored"], outcomes
            submissions += 2
            if aid % 3 == 0:
                answers = dict(answers, specificity={"A": "B", "B": "tie", "tie": "A"}[answers["specificity"]])
                outcomes = sorted(
                    r.outcome
                    for r in clicks.map(
                        lambda _: submit_ratings(db, aid, answers, "", sid + "/rev", annotator_id=me.id), range(2)
                    )
                )
                assert outcomes == ["duplicate", "revised"], outcomes
                submissions += 2
                revisions += 1
            final[aid] = answers
    return {"final": final, "submissions": submissions, "revisions": revisions}


def _run_threads(db, study: str, names: list[str]) -> list[dict]:
    with ThreadPoolExecutor(len(names)) as pool:
        return list(pool.map(lambda n: _annotate(db, study, n), names))


def _process_main(url: str, study: str, names: list[str], gate: str) -> list[dict]:
    """Entry point of a spawned worker process: open its own engine, wait at the gate, annotate."""
    from persona4rec.annotation.db import Database

    db = Database(url)
    Path(gate, f"ready-{names[0]}").touch()
    deadline = time.monotonic() + 300
    while not Path(gate, "go").exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the test never opened the gate")
        time.sleep(0.01)
    try:
        return _run_threads(db, study, names)
    finally:
        db.dispose()


@pytest.mark.slow
def test_concurrent_double_submits_from_threads_and_processes_store_exactly_once(db_urls, tmp_path, record_property):
    from persona4rec.annotation.db import open_database
    from persona4rec.annotation.models import Assignment, Rating, RatingHistory, Submission
    from persona4rec.annotation.study import ExampleInput, create_study

    url = db_urls.new("concurrent")
    db = open_database(url)
    create_study(
        db,
        "race",
        "explanation",
        "multi_persona",
        "single_persona",
        [ExampleInput(f"u{i}", f"i{i}", f"multi {i}", f"single {i}") for i in range(EXAMPLES)],
        annotators_per_example=ANNOTATORS_PER_EXAMPLE,
        seed=1,
    )
    gate = tmp_path / "gate"
    gate.mkdir()
    process_names = [[f"p{p}-t{t}" for t in range(THREADS_PER_PROCESS)] for p in range(PROCESSES)]
    thread_names = [f"main-t{t}" for t in range(MAIN_THREADS)]

    with ProcessPoolExecutor(PROCESSES, mp_context=multiprocessing.get_context("spawn")) as processes:
        futures = [processes.submit(_process_main, url, "race", names, str(gate)) for names in process_names]
        deadline = time.monotonic() + 240
        while len(list(gate.glob("ready-*"))) < PROCESSES:
            assert time.monotonic() < deadline, "worker processes did not start"
            assert not any(f.done() and f.exception() for f in futures), [f.exception() for f in futures]
            time.sleep(0.05)
        started = time.perf_counter()
        (gate / "go").touch()
        in_main = _run_threads(db, "race", thread_names)
        per_process = [f.result(timeout=300) for f in futures]
        seconds = time.perf_counter() - started

    results = in_main + [r for batch in per_process for r in batch]
    final = {aid: answers for r in results for aid, answers in r["final"].items()}
    submissions = sum(r["submissions"] for r in results)
    revisions = sum(r["revisions"] for r in results)
    assignments = EXAMPLES * ANNOTATORS_PER_EXAMPLE

    assert len(final) == assignments  # every slot was taken, by exactly one worker
    per_process_assignments = [sum(len(r["final"]) for r in batch) for batch in per_process]
    assert all(n > 0 for n in per_process_assignments), per_process_assignments  # all processes wrote

    with db.read() as session:
        n_ratings = session.scalar(select(func.count()).select_from(Rating))
        n_history = session.scalar(select(func.count()).select_from(RatingHistory))
        n_submissions = session.scalar(select(func.count()).select_from(Submission))
        per_example = session.execute(
            select(
                Assignment.example_id, func.count(), func.sum(case((Assignment.status == "done", 1), else_=0))
            ).group_by(Assignment.example_id)
        ).all()
        stored = {}
        for aid, criterion, choice in session.execute(
            select(Rating.assignment_id, Rating.criterion, Rating.shown_choice)
        ):
            stored.setdefault(aid, {})[criterion] = choice
    assert n_ratings == assignments * len(CRITERIA)
    assert n_history == revisions
    assert n_submissions == assignments + revisions  # each double click stored once
    assert len(per_example) == EXAMPLES
    assert all(n == ANNOTATORS_PER_EXAMPLE and done == ANNOTATORS_PER_EXAMPLE for _, n, done in per_example)
    assert stored == final  # no lost update: the last answer is the one kept
    db.dispose()

    figures = (
        f"concurrency on {db_urls.backend}: {MAIN_THREADS} threads in the test process + {PROCESSES} spawned "
        f"processes x {THREADS_PER_PROCESS} threads ({MAIN_THREADS + PROCESSES * THREADS_PER_PROCESS} annotators, "
        f"each submit double-clicked from 2 threads); {submissions} submit calls "
        f"({assignments + revisions} distinct, {revisions} revisions) -> {n_ratings} rating rows, "
        f"{n_history} history rows, {n_submissions} submission rows, exact; assignments per process "
        f"{per_process_assignments}; {seconds:.1f} s"
    )
    record_property("concurrency", figures)
    print("\n" + figures)
