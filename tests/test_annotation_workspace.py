"""Study examples built from a real (tiny, hand-written) workspace: histories, held-out items, sampling,
built-in explainers (item summary; multi- and single-persona reranking with the bundled encoder)."""

from __future__ import annotations

import pandas as pd
import pytest

from persona4rec.annotation.examples import build_examples
from persona4rec.annotation.study import create_study, identify_annotator, next_assignment
from persona4rec.data.schema import as_items, as_reviews, items_to_disk
from persona4rec.errors import InputError
from persona4rec.io import write_jsonl, write_parquet
from persona4rec.offline.persona_text import persona_explanation
from persona4rec.offline.schema import AspectTuple, Persona
from persona4rec.workspace import Workspace

BACKEND = "test:handwritten"
ITEMS = {
    "guitar": "An acoustic guitar.",
    "drums": "A drum kit.",
    "piano": "A digital piano.",
    "tuner": "A clip-on tuner.",
    "bench": "A piano bench.",
}
PERSONAS = {  # item -> [(id, name, description, rationale)]
    "guitar": [
        ("P1", "Beginner guitarist", "Learning first chords.", "Reviews call it easy to play."),
        ("P2", "Stage performer", "Plays acoustic sets live.", "Reviews praise its projection."),
    ],
    "drums": [
        ("P1", "Rock drummer", "Plays loud in a band.", "Reviews mention durability."),
        ("P2", "Parent of a young drummer", "Buys a first kit for a child.", "Reviews mention kids."),
    ],
    "piano": [("P1", "Classical pianist", "Practises daily.", "Reviews praise the weighted keys.")],
    "tuner": [("P1", "Gigging guitarist", "Tunes between songs.", "Reviews praise speed.")],
    "bench": [("P1", "Long-session player", "Sits for hours.", "Reviews praise comfort.")],
}
# user -> [(item, day, split, review text)]
HISTORIES = {
    "u1": [
        ("tuner", 1, "train", "quick tuning <b>on stage</b>"),
        ("guitar", 2, "train", "my first chords"),
        ("piano", 3, "valid", "weighted keys"),
        ("bench", 4, "test", "comfortable"),
    ],
    "u2": [
        ("drums", 1, "train", "loud rock band kit"),
        ("tuner", 2, "train", "tunes my bass"),
        ("bench", 3, "valid", "sturdy"),
        ("guitar", 4, "test", "strumming at gigs"),
    ],
    "u3": [
        ("bench", 1, "train", "long practice"),
        ("piano", 2, "train", "classical practice"),
        ("guitar", 3, "valid", "gift"),
        ("drums", 4, "test", "for my kid"),
    ],
    "u4": [("guitar", 1, "valid", "first guitar"), ("tuner", 2, "test", "tuning")],  # no train interaction
}


def _persona_record(item, personas, mode):
    return {
        "item_id": item,
        "mode": mode,
        "summary_only": False,
        "evidence": {},
        "backend": BACKEND,
        "personas": [
            Persona(id=p, name=n, description=d, preference_rationale=w).model_dump() for p, n, d, w in personas
        ],
    }


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    root = tmp_path_factory.mktemp("annotation_ws") / "tiny"
    reviews, split, aspects = [], [], []
    for user, rows in HISTORIES.items():
        for item, day, part, text in rows:
            reviews.append(
                {
                    "user_id": user,
                    "item_id": item,
                    "rating": 4.0,
                    "title": f"about {item}",
                    "text": text,
                    "timestamp": day * 86_400_000,
                }
            )
            split.append({"user_id": user, "item_id": item, "split": part})
            tup = AspectTuple(
                purchase_purpose=text,
                purchase_purpose_reason="stated",
                usage_context=text,
                usage_context_reason="stated",
            )
            aspects.append(
                {
                    "user_id": user,
                    "item_id": item,
                    "aspects": tup.model_dump(),
                    "null_fraction": tup.null_fraction(),
                    "kept": tup.usable(),
                    "backend": BACKEND,
                }
            )
    items = pd.DataFrame([{"item_id": i, "title": i.title(), "description": d} for i, d in ITEMS.items()])
    with Workspace.create(root) as new:
        write_parquet(new.data_dir / "reviews.parquet", as_reviews(pd.DataFrame(reviews)))
        write_parquet(new.data_dir / "items.parquet", items_to_disk(as_items(items)))
        write_parquet(new.data_dir / "split.parquet", pd.DataFrame(split).astype("string"))
        write_jsonl(
            new.offline_dir / "summaries.jsonl",
            [{"item_id": i, "summary": d, "source": "metadata", "backend": BACKEND} for i, d in ITEMS.items()],
        )
        write_jsonl(new.offline_dir / "aspects.jsonl", aspects)
        write_jsonl(new.offline_dir / "personas.jsonl", [_persona_record(i, p, "multi") for i, p in PERSONAS.items()])
        write_jsonl(
            new.offline_dir / "personas_single.jsonl",
            [_persona_record(i, p[:1], "single") for i, p in PERSONAS.items()],
        )
    return Workspace.open(root)


def first_persona(user_id: str, item_id: str) -> str:
    """A real baseline explainer: the item's first persona, whoever the user is."""
    p = PERSONAS[item_id][0]
    return persona_explanation(Persona(id=p[0], name=p[1], description=p[2], preference_rationale=p[3]))


def test_examples_pair_the_held_out_item_with_both_explanations_and_the_history(ws):
    examples = build_examples(
        ws, "first_persona", "summary_profile", n=10, seed=1, explainers={"first_persona": first_persona}
    )
    assert sorted(e.user_id for e in examples) == ["u1", "u2", "u3", "u4"]
    by_user = {e.user_id: e for e in examples}
    u1 = by_user["u1"]
    assert (u1.item_id, u1.item_title, u1.workspace) == ("bench", "Bench", "tiny")
    assert u1.explanation_b == ITEMS["bench"]
    assert u1.explanation_a.startswith("Long-session player: Sits for hours.\nWhy: ")
    assert [h["item_id"] for h in u1.history] == ["tuner", "guitar", "piano"]  # train + valid, oldest first
    assert u1.history[0]["review"] == "quick tuning <b>on stage</b>"  # text kept as given
    assert u1.history[0]["date"] == "1970-01-02" and u1.history[0]["rating"] == 4.0
    short = build_examples(
        ws,
        "first_persona",
        "summary_profile",
        n=2,
        seed=1,
        history_length=1,
        explainers={"first_persona": first_persona},
    )
    assert [e.user_id for e in short] == [e.user_id for e in examples][:2]  # same seeded order
    assert all(len(e.history) == 1 for e in short)
    valid = build_examples(
        ws, "first_persona", "summary_profile", n=10, split="valid", explainers={"first_persona": first_persona}
    )
    # u4 has nothing before its validation item, so it cannot be shown with a history
    assert {e.user_id: e.item_id for e in valid} == {"u1": "piano", "u2": "bench", "u3": "guitar"}


def test_users_without_an_explanation_are_skipped(ws):
    def only_guitar(user_id, item_id):
        return "guitar reasons" if item_id == "guitar" else ""

    examples = build_examples(ws, "only_guitar", "summary_profile", n=3, explainers={"only_guitar": only_guitar})
    assert [(e.user_id, e.item_id) for e in examples] == [("u2", "guitar")]


def test_bad_requests_name_the_field(ws):
    with pytest.raises(InputError, match="no built-in explainer") as err:
        build_examples(ws, "online_llm", "summary_profile", n=1)
    assert err.value.field == "system"
    with pytest.raises(InputError) as err:
        build_examples(ws, "summary_profile", "summary_profile", n=1)
    assert err.value.field == "system_b"
    with pytest.raises(InputError) as err:
        build_examples(
            ws, "first_persona", "summary_profile", n=1, split="train", explainers={"first_persona": first_persona}
        )
    assert err.value.field == "split"


@pytest.mark.slow
def test_multi_vs_single_persona_examples_feed_a_study(ws, db_url):
    pytest.importorskip("persona4rec.rerank", reason="the reranker is not in this checkout yet")
    from persona4rec.annotation.db import open_database

    examples = build_examples(ws, "multi_persona", "single_persona", n=3, seed=0)
    assert len(examples) == 3
    names = {e.item_id: {p[1] for p in PERSONAS[e.item_id]} for e in examples}
    for e in examples:
        assert e.explanation_a.split(":")[0] in names[e.item_id]  # a persona of the item
        assert e.explanation_b.split(":")[0] == PERSONAS[e.item_id][0][1]  # the single persona
    db = open_database(db_url)
    study = create_study(db, "multi-vs-single", "explanation", "multi_persona", "single_persona", examples)
    shown = next_assignment(db, study, identify_annotator(db, study, "w-ann").id)
    source = next(e for e in examples if (e.user_id, e.item_id) == (shown.user_id, shown.item_id))
    assert {shown.explanation_shown_a, shown.explanation_shown_b} == {source.explanation_a, source.explanation_b}
    db.dispose()


def test_cli_study_from_a_workspace_refuses_a_system_without_explainer(ws, db_url, capsys):
    from persona4rec.cli import main as cli_main

    url = db_url
    assert (
        cli_main(
            [
                "study",
                "create",
                "--url",
                url,
                "--name",
                "from-ws",
                "--workspace",
                str(ws.root),
                "--system-a",
                "summary_profile",
                "--system-b",
                "online_llm",
            ]
        )
        == 2
    )
    assert "no built-in explainer" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_creates_a_study_from_a_workspace(ws, db_url, capsys):
    pytest.importorskip("persona4rec.rerank", reason="the reranker is not in this checkout yet")
    from persona4rec.cli import main as cli_main

    url = db_url
    assert (
        cli_main(
            [
                "study",
                "create",
                "--url",
                url,
                "--name",
                "from-ws",
                "--workspace",
                str(ws.root),
                "--system-a",
                "summary_profile",
                "--system-b",
                "single_persona",
                "--examples-per-study",
                "2",
            ]
        )
        == 0
    )
    assert "2 examples x 3 annotators" in capsys.readouterr().out


# -- one builder for the CLI and the app ------------------------------------------------------------------


def _stored_examples(url: str, study_name: str) -> list:
    """A study's examples as the database keeps them, in their study order, as ExampleInput again."""
    from sqlalchemy import select

    from persona4rec.annotation.db import open_database
    from persona4rec.annotation.models import Example, Study, System
    from persona4rec.annotation.study import ExampleInput

    db = open_database(url)
    with db.read() as session:
        study_id = session.scalar(select(Study.id).where(Study.name == study_name))
        rows = session.scalars(select(Example).where(Example.study_id == study_id).order_by(Example.position))
        stored = [
            ExampleInput(
                user_id=r.user_id,
                item_id=r.item_id,
                explanation_a=r.explanation_a,
                explanation_b=r.explanation_b,
                history=r.history,
                item_title=r.item_title,
                workspace=r.workspace,
                system_a=session.get(System, r.system_a_id).name,
                system_b=session.get(System, r.system_b_id).name,
            )
            for r in rows
        ]
    db.dispose()
    return stored


@pytest.mark.parametrize(
    "criteria, system_a, system_b",
    [
        pytest.param("persona", "multi_persona", "summary_profile", id="persona-sets"),
        pytest.param("explanation", "multi_persona", "single_persona", id="winning-personas", marks=pytest.mark.slow),
    ],
)
def test_cli_and_app_build_the_same_examples_for_the_same_seed(ws, db_url, criteria, system_a, system_b):
    from persona4rec.cli import main as cli_main
    from persona4rec.views.studies import study_examples

    url = db_url
    command = ["study", "create", "--url", url, "--name", "cli", "--workspace", str(ws.root), "--criteria", criteria]
    command += ["--system-a", system_a, "--system-b", system_b, "--examples-per-study", "3", "--seed", "5"]
    assert cli_main(command) == 0

    def app_reranker(variant):  # what the page's cached session.reranker(ws, variant) loads
        from persona4rec.rerank import Reranker

        return Reranker.from_workspace(ws, variant, generator=None)

    app = study_examples(ws, [system_a, system_b], 3, seed=5, criteria_set=criteria, load_reranker=app_reranker)
    assert len(app) == 3
    assert _stored_examples(url, "cli") == app  # same users, items, explanations, history, in the same order
    if criteria == "persona":  # the whole persona set, one line per persona
        assert all(e.explanation_a.count("\n") == len(PERSONAS[e.item_id]) - 1 for e in app)
    assert {"item_id", "title", "rating", "review_title", "review", "date"} == set(app[0].history[0])


class RecordingLLM:
    """Stands in for OnlineExplainer: records what the online_llm system is given."""

    def __init__(self):
        self.calls = []

    def explain(self, history, title, summary, key=""):
        self.calls.append((key, [h["item_id"] for h in history], title, summary))
        return f"You liked {history[-1]['title']}."


def test_online_llm_explains_from_the_shown_history_and_the_items_summary(ws):
    from persona4rec.annotation.online import rationale_messages

    llm = RecordingLLM()
    examples = build_examples(ws, "online_llm", "summary_profile", n=4, seed=1, online=llm)
    by_user = {e.user_id: e for e in examples}
    assert ("u1|bench", ["tuner", "guitar", "piano"], "Bench", ITEMS["bench"]) in llm.calls
    assert by_user["u1"].explanation_a == "You liked Piano."
    prompt = rationale_messages(by_user["u1"].history, "Bench", ITEMS["bench"])[1]["content"]
    assert "- Tuner (rated 4): about tuner. quick tuning <b>on stage</b>" in prompt
    assert "Recommended product: Bench" in prompt and ITEMS["bench"] in prompt


def test_progress_is_reported_per_example(ws):
    seen = []
    build_examples(
        ws,
        "first_persona",
        "summary_profile",
        n=2,
        explainers={"first_persona": first_persona},
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(1, 2), (2, 2)]
