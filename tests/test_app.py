"""The Streamlit app under streamlit.testing.v1.AppTest, on a small demo workspace built once per session
(tests/app_fixture.py), plus the plain-Python view helpers the pages call."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from app_fixture import shared_app_workspace  # noqa: E402

APP = Path(__file__).resolve().parents[1] / "app.py"
PAGES = (
    "pages/explore_user.py",
    "pages/item_personas.py",
    "pages/single_vs_multi.py",
    "pages/annotate.py",
    "pages/studies.py",
)
TIMEOUT = 240  # first page load builds nothing (the fixture did) but loads the encoder on a busy machine


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def app_workspace(tmp_path_factory):
    return shared_app_workspace(tmp_path_factory)


@pytest.fixture(scope="session")
def bare_workspace(tmp_path_factory):
    """Data only: no offline records, no candidates, no reports."""
    from persona4rec.demo.catalogue import build_demo_workspace

    return build_demo_workspace(tmp_path_factory.mktemp("bare") / "bare", seed=1, n_items=12, n_users=20)


@pytest.fixture
def app_env(app_workspace, tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONA4REC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PERSONA4REC_WORKSPACE", str(app_workspace.root))
    url = f"sqlite:///{tmp_path / 'studies.sqlite'}"
    monkeypatch.setenv("PERSONA4REC_DB_URL", url)
    return url


def open_app(page: str | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    if page is not None:
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def button(at, label: str):
    from persona4rec.webapp.check import find_button

    return find_button(at, label)  # raises AssertionError naming the buttons there are


def frame_with(at, column: str):
    from persona4rec.webapp.check import find_table

    table = find_table(at, column)
    assert table is not None, f"no table with column {column!r}"
    return table


# -- plain helpers -------------------------------------------------------------------------------


def test_md_escapes_markup_and_keeps_text():
    from persona4rec.offline.text import snippet
    from persona4rec.views.text import md

    out = md("<script>x</script> **b** [l](u) $m$ :red[r]")
    for live in ("<script>", "**", "](", "$m$", ":red["):
        assert live not in out
    assert out.replace("\\", "") == "<script>x</script> **b** [l](u) $m$ :red[r]"
    assert md("a\nb") == "a  \nb"
    assert snippet("one  two\nthree", 8) == "one two…"


def test_chart_labels_carry_no_markup():
    import pandas as pd

    from persona4rec.views.charts import persona_similarity_chart

    scores = pd.DataFrame(
        {
            "persona_key": ["i_P1", "i_P2"],
            "persona_id": ["P1", "P2"],
            "name": ['<a href="javascript:x()">Fans</a>', "Fans"],
            "similarity": [0.5, 0.2],
            "winner": [True, False],
        }
    )
    labels = list(persona_similarity_chart(scores).data[0].y)
    assert labels == ['P1: &lt;a href="javascript:x()"&gt;Fans&lt;/a&gt;', "P2: Fans"]


def test_workspace_choice(tmp_path):
    from persona4rec.views import workspaces

    assert workspaces.workspace_arg(["--workspace", "x"]) == "x"
    assert workspaces.workspace_arg(["--workspace=y"]) == "y"
    assert workspaces.workspace_arg(["--other"]) is None
    for name in ("alpha", "demo", ".demo.building-1"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text("{}")
    found = workspaces.discover(tmp_path)
    assert [p.name for p in found] == ["alpha", "demo"]
    assert found[workspaces.initial_choice(found, None)].name == "demo"
    assert found[workspaces.initial_choice(found, str(tmp_path / "alpha"))].name == "alpha"


def test_metric_rows_flatten_nested_reports():
    from persona4rec.views.compare import metric_rows

    rows = metric_rows(
        {
            "generators": {
                "bpr": {"test": {"overall": {"HR@10": 0.5, "users": 3}, "segments@10": {"warm": {"HR@10": 0.7}}}}
            },
            "note": "text",
        }
    )
    assert rows == [
        {"where": "generators / bpr / test / overall", "HR@10": 0.5, "users": 3},
        {"where": "generators / bpr / test / segments@10 / warm", "HR@10": 0.7},
    ]


# -- every page ----------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(app_env, page):
    at = open_app(page)
    assert at.title, "page shows no title"
    assert any("SYNTHETIC" in w.value for w in at.sidebar.warning), "the demo is not marked SYNTHETIC"


def candidate_counts(ws) -> dict[str, int]:
    import pandas as pd

    frame = pd.read_parquet(ws.candidates_dir / "pop.parquet")
    return frame[frame["split"] == "test"].groupby("user_id").size().to_dict()


def test_explore_reranks_with_personas(app_env, app_workspace):
    counts = candidate_counts(app_workspace)
    user = max(sorted(counts), key=counts.get)
    at = open_app()
    at.selectbox(key="explore_user").set_value(user).run()
    assert not at.exception
    ranked = frame_with(at, "persona")
    n = counts[user]
    assert n > 1 and len(ranked) == n
    assert (ranked["persona"].str.len() > 0).all(), "a candidate has no winning persona"
    assert ranked["new_rank"].tolist() == list(range(1, n + 1))
    assert sorted(ranked["cf_rank"].tolist()) == list(range(1, n + 1))
    assert ranked["similarity"].is_monotonic_decreasing
    assert set(ranked["made_by"]) == {"extractive:all-MiniLM-L6-v2"}
    assert at.get("plotly_chart"), "no per-persona similarity chart"


def test_review_markup_is_shown_as_text(app_env):
    at = open_app()
    history = frame_with(at, "in_profile")  # the first user carries the planted review
    assert history["review"].str.contains("<script>", regex=False).any()
    for element in (*at.markdown, *at.caption, *at.info, *at.warning, *at.error, *at.success):
        assert "<script>" not in element.value and "**not bold**" not in element.value


def test_item_personas_search_and_backend(app_env):
    at = open_app("pages/item_personas.py")
    at.text_input(key="items_query").input("coffee").run()
    table = frame_with(at, "summary_only")
    assert len(table) and table["title"].str.contains("Coffee").all()
    assert any("personas made by extractive" in c.value.replace("\\", "") for c in at.caption)
    assert at.expander, "no persona shown"


def test_single_vs_multi_and_metrics(app_env, app_workspace):
    at = open_app("pages/single_vs_multi.py")
    user = at.selectbox(key="compare_user").value
    side = frame_with(at, "single_persona")
    assert len(side) == candidate_counts(app_workspace)[user]
    assert (side["multi_persona"].str.len() > 0).all() and (side["single_persona"].str.len() > 0).all()
    metrics = frame_with(at, "where")
    assert metrics["where"].str.contains("generators / pop / test").any()
    assert "NDCG@10" in metrics.columns


def test_missing_inputs_name_the_command(bare_workspace, tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONA4REC_WORKSPACE", str(bare_workspace.root))
    monkeypatch.setenv("PERSONA4REC_DB_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    at = open_app()
    codes = [c.value for c in at.code]
    assert any(c.startswith("persona4rec offline all") for c in codes), codes
    at.switch_page("pages/single_vs_multi.py").run()
    assert not at.exception
    codes = [c.value for c in at.code]
    assert any(c.startswith("persona4rec candidates") for c in codes)
    assert any(c.startswith("persona4rec evaluate") for c in codes)


# -- the study: create, annotate, results --------------------------------------------------------


def test_create_annotate_and_results(app_env):
    from sqlalchemy import func, select

    from persona4rec.annotation import open_database
    from persona4rec.annotation.models import Assignment, Rating, RatingHistory

    at = open_app("pages/studies.py")
    at.text_input(key="study_name").input("app-test")
    at.number_input(key="study_examples").set_value(2)
    at.number_input(key="study_annotators").set_value(1)
    button(at, "Create study").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Created study" in s.value for s in at.success)

    at.switch_page("pages/annotate.py").run()
    at.text_input(key="annotate_name").input("alice")
    button(at, "Start annotating").click().run()
    assert not at.exception
    explanations = [t.value for t in at.text]
    assert len(explanations) == 2 and all(explanations)
    assignment_id = int(next(r.key for r in at.radio if r.key.startswith("rate:")).split(":")[1])
    choices = {
        "intuitiveness": "tie",
        "relatability": "tie",
        "consistency": "A",
        "persuasiveness": "A",
        "specificity": "B",
    }
    for key, value in choices.items():
        at.radio(key=f"rate:{assignment_id}:{key}").set_value(value)
    button(at, "Submit").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Saved" in s.value for s in at.success)

    db = open_database()
    with db.read() as session:
        rows = {
            r.criterion: r.shown_choice
            for r in session.scalars(select(Rating).where(Rating.assignment_id == assignment_id))
        }
        left_is_a = session.get(Assignment, assignment_id).left_is_a
    assert rows == choices

    # Revise one answer: the rating row changes and the old value goes to the history.
    at.selectbox(key=next(s.key for s in at.selectbox if s.key.startswith("annotate_goto"))).set_value(
        assignment_id
    ).run()
    at.radio(key=f"rate:{assignment_id}:specificity").set_value("tie")
    button(at, "Submit revision").click().run()
    assert not at.exception
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(RatingHistory)) == 1
        assert (
            session.scalar(
                select(Rating.shown_choice).where(
                    Rating.assignment_id == assignment_id, Rating.criterion == "specificity"
                )
            )
            == "tie"
        )

    at.switch_page("pages/studies.py").run()
    results = frame_with(at, "win_rate").set_index("criterion")
    assert results.loc["intuitiveness", "tie_rate"] == 1.0
    assert results.loc["specificity", "tie_rate"] == 1.0
    # "A" as shown is system A exactly when A's explanation was on the left.
    expected_win = 1.0 if left_is_a else 0.0
    assert results.loc["consistency", "win_rate"] == expected_win
    assert results.loc["persuasiveness", "loss_rate"] == 1.0 - expected_win
    assert (results["n"] == 1).all()
    annotators = [df.value for df in at.dataframe if "annotator" in df.value.columns][0]
    assert annotators.iloc[0]["annotator"] == "alice" and annotators.iloc[0]["done"] == 1


# -- launching and study examples ----------------------------------------------------------------


def test_app_command_and_bad_workspace(tmp_path, capsys):
    from persona4rec.cli import main
    from persona4rec.webapp.launch import app_command

    command = app_command("workspaces/demo", port=8600)
    assert command[1:4] == ["-m", "streamlit", "run"] and command[4].endswith("app.py")
    assert command[command.index("--server.port") + 1] == "8600"
    assert command[-3:] == ["--", "--workspace", "workspaces/demo"]  # app flags after Streamlit's
    assert main(["app", "--workspace", str(tmp_path / "missing")]) == 2
    assert "not a workspace" in capsys.readouterr().err


def test_persona_quality_examples_show_whole_persona_sets(app_workspace):
    from persona4rec.views.catalogue import load_catalogue
    from persona4rec.views.studies import available_systems, study_examples

    cat = load_catalogue(app_workspace)
    assert available_systems(cat, llm=False) == ["multi_persona", "single_persona", "summary_profile"]
    assert available_systems(cat, llm=True)[-1] == "online_llm"
    examples = study_examples(app_workspace, ["multi_persona", "single_persona"], 3, seed=7, criteria_set="persona")
    assert len(examples) == 3 and len({e.user_id for e in examples}) == 3
    for e in examples:
        record = cat.personas[e.item_id]
        assert e.explanation_a.count("\n") == len(record.personas) - 1  # one line per persona
        assert e.explanation_b.startswith(cat.personas_single[e.item_id].personas[0].name)
        assert e.history and {"title", "rating", "review"} <= set(e.history[0])
    again = study_examples(app_workspace, ["multi_persona", "single_persona"], 3, seed=7, criteria_set="persona")
    assert again == examples  # seeded: the same study from the same seed


@pytest.mark.llm_server
def test_online_llm_rationales_from_a_real_local_server(app_workspace, tmp_path):
    """online_llm: the LLM client writes a rationale for the same recommendation, through the real
    llama.cpp server (SmolLM2-135M), and the answer is cached in the workspace's LLM cache."""
    from llm_server import LlamaServer, find_model, free_port, why_unavailable

    from persona4rec.annotation.online import OnlineExplainer
    from persona4rec.llm.config import LLMConfig
    from persona4rec.views.studies import study_examples

    reason = why_unavailable()
    if reason:
        pytest.skip(reason)
    server = LlamaServer(find_model(), free_port(), tmp_path / "server.log")
    server.start()
    try:
        config = LLMConfig(
            base_url=f"http://127.0.0.1:{server.port}/v1",
            model="smollm2-135m",
            api_key="none",
            response_format="json_object",
            concurrency=1,
            max_retries=2,
            validation_retries=2,
            timeout=300,
            max_tokens=160,
        )
        online = OnlineExplainer(app_workspace, config)
        examples = study_examples(app_workspace, ["multi_persona", "online_llm"], 2, online=online)
    finally:
        server.kill()
    assert examples and all(e.explanation_b.strip() for e in examples)
    assert all(e.explanation_a != e.explanation_b for e in examples)
    assert online.client.cache is not None and len(online.client.cache) >= len(examples)


def test_annotate_asks_for_the_study_token(app_env):
    from persona4rec.annotation import ExampleInput, create_study, open_database

    db = open_database()
    create_study(
        db,
        "closed",
        "persona",
        "multi_persona",
        "single_persona",
        [ExampleInput("u1", "i1", "persona set A", "persona set B", [{"title": "<b>t</b>"}], "Item")],
        annotators_per_example=2,
        access_token="s3cret",
    )
    at = open_app("pages/annotate.py")
    at.text_input(key="annotate_name").input("carol")
    at.text_input(key="annotate_token").input("wrong")
    button(at, "Start annotating").click().run()
    assert any("access token" in e.value for e in at.error)
    assert not at.text  # nothing of the example is shown
    at.text_input(key="annotate_token").input("s3cret")
    button(at, "Start annotating").click().run()
    assert not at.exception and not at.error
    assert sorted(t.value for t in at.text) == ["persona set A", "persona set B"]
    assert [r.label for r in at.radio] == [
        "Faithfulness",
        "Clarity",
        "Coverage",
        "Interpretability",
        "Representativeness",
    ]


def test_app_check_drives_every_page_on_a_workspace(app_workspace, tmp_path, monkeypatch):
    """`persona4rec app --check`: every page rendered and driven, the study rated in a throwaway database."""
    from persona4rec.cli import main
    from persona4rec.webapp.check import check_app

    monkeypatch.setenv("PERSONA4REC_HOME", str(tmp_path / "home"))
    real_db = f"sqlite:///{tmp_path / 'real.sqlite'}"
    monkeypatch.setenv("PERSONA4REC_DB_URL", real_db)
    results = check_app(app_workspace.root)
    assert [r.page for r in results] == [
        "pages/explore_user.py",
        "pages/item_personas.py",
        "pages/single_vs_multi.py",
        "pages/studies.py",
        "pages/annotate.py",
        "pages/studies.py",
    ]
    assert all(r.ok for r in results), [(r.page, r.error) for r in results]
    explore, items, compare, created, rated, finished = (r.shown for r in results)
    assert "candidates reranked" in explore and "per-persona similarity chart" in explore
    assert "personas shown" in items and "side by side" in compare
    assert created.startswith("Created study") and "criteria rated and saved" in rated
    assert "5 criteria with win/tie/loss rates, n = 1" in finished
    assert not (tmp_path / "real.sqlite").exists(), "the check wrote to the configured database"
    assert os.environ["PERSONA4REC_DB_URL"] == real_db
    assert main(["app", "--check", "--workspace", str(tmp_path / "missing")]) == 2
