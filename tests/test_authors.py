"""The paper authors' artifact files: reading both dialects, clear errors on bad lines, and the way
back (export) with exactly their keys. Small files written here cover the cases; the tests at the end
run the real gpt-4o-mini sample in ../shared/data (skipped where that folder is absent)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from persona4rec.authors.files import FILES, ORIGIN, read_authors_dir, write_authors_dir
from persona4rec.authors.interop import export_authors, import_authors
from persona4rec.cli import main as cli_main
from persona4rec.errors import InputError
from persona4rec.offline.records import load_alignment, load_aspects, load_personas, load_summaries

AMAZON_ASPECTS = {
    "category_preference_reason": "mentions historical fiction",
    "category_preference": "Historical Fiction",
    "purchase_purpose_reason": "null",
    "purchase_purpose": None,
    "quality_criteria_reason": "quick read",
    "quality_criteria": "Engagement",
    "usage_context_reason": None,
    "usage_context": None,
}
YELP_ASPECTS = {
    "cuisine_category": "Indian",
    "cuisine_category_reason": "mentions naan",
    "specific_dishes_or_attributes": "The garlic naan was great.",
    "visit_purpose": "Post-theater dining",
    "visit_purpose_reason": "after a show",
    "quality_criteria": "Delicious appetizers",
    "visit_context": None,
    "visit_context_reason": None,
}
PERSONAS = [
    {
        "ID": "P1",
        "Name": "Commuter Reader",
        "Description": "Reads on the train.",
        "Preference_Rationale": "Review 2 praises the short chapters.",
    },
    {
        "ID": "P2",
        "Name": "History Buff",
        "Description": "Loves the period detail.",
        "Preference_Rationale": "Review 1 cites the postwar setting.",
    },
]


def _write(folder: Path, name: str, lines: list, gz: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.jsonl{'.gz' if gz else ''}"
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _amazon_folder(folder: Path) -> Path:
    _write(
        folder,
        "1_aspects",
        [
            {
                "review_id": 1,
                "item_id": "B1",
                "user_id": "U1",
                "rating": 4.0,
                "timestamp": 1606780947726,
                "review_title": "Powerful",
                "review_text": "A quick read.",
                "extracted_aspects": AMAZON_ASPECTS,
            },
            {
                "review_id": 2,
                "item_id": "B2",
                "user_id": "U1",
                "rating": 5.0,
                "timestamp": 1606790947726,
                "review_title": "Great",
                "review_text": "Short chapters, perfect on the train.",
                "extracted_aspects": {**AMAZON_ASPECTS, "usage_context": "commuting"},
            },
        ],
        gz=True,
    )
    _write(
        folder,
        "2_summary",
        [
            {
                "item_id": "B1",
                "item_title": "Not Our Kind",
                "item_description": "A novel.",
                "item_summary": "A postwar novel.",
            }
        ],
    )
    _write(
        folder,
        "3_personas",
        [
            {
                "item_id": "B2",
                "item_title": "Train Tales",
                "item_description": "Stories.",
                "item_summary": "Short stories.",
                "review_count": 2,
                "personas": PERSONAS,
                "persona_count": 2,
            }
        ],
    )
    _write(
        folder,
        "3.5_history",
        [
            {
                "user_id": "U1",
                "reviews": [
                    {
                        "user_id": "U1",
                        "item_id": "B1",
                        "review_title": "Powerful",
                        "summary": "A postwar novel.",
                        "extracted": AMAZON_ASPECTS,
                        "timestamp": 1606780947726,
                        "rating": 4.0,
                    },
                    {
                        "user_id": "U1",
                        "item_id": "B3",
                        "review_title": "Fine",
                        "summary": "A cookbook.",
                        "extracted": AMAZON_ASPECTS,
                        "timestamp": 1606799947726,
                        "rating": 3.0,
                    },
                ],
            }
        ],
    )
    _write(folder, "3.5_gt", [{"user_id": "U1", "item_id": "B3"}])
    _write(
        folder,
        "4_selected_personas",
        [
            {
                "user_id": "U1",
                "target_item_id": "B2",
                "selected_persona_id": "P1",
                "selected_persona_name": "Commuter Reader",
                "selected_persona": PERSONAS[0],
                "selection_reasoning": "The user reads on trains.",
            }
        ],
    )
    return folder


# -- reading -------------------------------------------------------------------------------------


def test_amazon_files_read_into_reviews_items_summaries_personas_and_selections(tmp_path):
    art = read_authors_dir(_amazon_folder(tmp_path / "amazon"))
    assert art.dialect == "amazon"
    assert sorted(art.reviews) == [("U1", "B1"), ("U1", "B2"), ("U1", "B3")]
    b1 = art.reviews[("U1", "B1")]
    assert (b1.text, b1.title, b1.timestamp, b1.review_id, b1.rating) == (
        "A quick read.",
        "Powerful",
        1606780947726,
        "1",
        4.0,
    )
    assert art.reviews[("U1", "B3")].text is None  # histories carry no review text
    assert art.summaries["B3"][0] == "A cookbook." and art.items["B2"]["review_count"] == 2
    assert [p["name"] for p in art.personas["B2"][0]] == ["Commuter Reader", "History Buff"]
    assert art.selections[0]["persona"]["id"] == "P1" and art.held_out == {"U1": "B3"}
    assert art.report["files"]["2.5_grouped"] is None  # absent files are reported, not required


def test_yelp_slots_map_onto_ours_and_timestamps_parse_as_utc(tmp_path):
    folder = tmp_path / "yelp"
    _write(
        folder,
        "1_aspects",
        [
            {
                "review_id": "gginIHkTUyEC5TJcWsW0sQ",
                "item_id": "R1",
                "user_id": "V1",
                "rating": 5.0,
                "timestamp": "2017-10-09 04:08:23",
                "review_text": "Great naan.",
                "extracted_aspects": YELP_ASPECTS,
            }
        ],
    )
    art = read_authors_dir(folder)
    review = art.reviews[("V1", "R1")]
    assert art.dialect == "yelp" and review.timestamp == 1507522103000 and review.title is None
    assert review.aspects["category_preference"] == "Indian"
    assert review.aspects["purchase_purpose"] == "Post-theater dining"
    assert review.aspects["quality_criteria_reason"] == "The garlic naan was great."
    out = tmp_path / "out"
    write_authors_dir(art, out)
    line = json.loads((out / "1_aspects.jsonl").read_text().splitlines()[0])
    assert list(line) == ["review_id", "item_id", "user_id", "rating", "timestamp", "review_text", "extracted_aspects"]
    assert line["timestamp"] == "2017-10-09 04:08:23" and line["extracted_aspects"] == YELP_ASPECTS


@pytest.mark.parametrize(
    "name, line, field",
    [
        ("1_aspects", "{not json", None),
        (
            "1_aspects",
            {"review_id": 1, "item_id": "B1", "user_id": "U1", "rating": 4.0, "timestamp": 1, "review_text": "x"},
            "extracted_aspects",
        ),
        (
            "1_aspects",
            {
                "review_id": 1,
                "item_id": "B1",
                "user_id": "U1",
                "rating": "five",
                "timestamp": 1,
                "review_text": "x",
                "extracted_aspects": AMAZON_ASPECTS,
            },
            "rating",
        ),
        (
            "1_aspects",
            {
                "review_id": 1,
                "item_id": "B1",
                "user_id": "U1",
                "rating": 4.0,
                "timestamp": "yesterday",
                "review_text": "x",
                "extracted_aspects": AMAZON_ASPECTS,
            },
            "timestamp",
        ),
        (
            "1_aspects",
            {
                "review_id": 1,
                "item_id": "B1",
                "user_id": "U1",
                "rating": 4.0,
                "timestamp": 1,
                "review_text": "x",
                "extracted_aspects": {"mood": "happy"},
            },
            "extracted_aspects",
        ),
        (
            "1_aspects",
            {
                "review_id": 1,
                "item_id": "B1",
                "user_id": "U1",
                "rating": 4.0,
                "timestamp": 1,
                "review_text": "x",
                "extracted_aspects": {**AMAZON_ASPECTS, "usage_context": 3},
            },
            "extracted_aspects.usage_context",
        ),
        (
            "3_personas",
            {"item_id": "B2", "item_summary": "s", "personas": [PERSONAS[0], {"ID": "P2"}]},
            "personas[1].Name",
        ),
        (
            "3.5_history",
            {
                "user_id": "U1",
                "reviews": [
                    {
                        "user_id": "U1",
                        "item_id": "B1",
                        "timestamp": 5,
                        "rating": 4.0,
                        "extracted": {"quality_criteria": ["a"]},
                    }
                ],
            },
            "reviews[0].extracted.quality_criteria",
        ),
        (
            "3.5_persona_with_summary",
            {"item_id": "B2", "personas": [{**PERSONAS[0], "unique_persona_id": "B9_P1"}]},
            "personas[0].unique_persona_id",
        ),
        (
            "4_selected_personas",
            {
                "user_id": "U1",
                "target_item_id": "B2",
                "selected_persona_id": "P2",
                "selected_persona": PERSONAS[0],
                "selection_reasoning": "r",
            },
            "selected_persona_id",
        ),
    ],
)
def test_a_bad_line_names_file_line_and_field_and_leaves_no_workspace(tmp_path, name, line, field):
    folder = tmp_path / "bad"
    _write(folder, "2_summary", [{"item_id": "B1", "item_title": "t", "item_description": "d", "item_summary": "s"}])
    path = _write(
        folder,
        name,
        [line]
        if name != "1_aspects"
        else [
            {
                "review_id": 7,
                "item_id": "B7",
                "user_id": "U7",
                "rating": 3.0,
                "timestamp": 5,
                "review_title": "",
                "review_text": "fine",
                "extracted_aspects": AMAZON_ASPECTS,
            },
            line,
        ],
    )
    with pytest.raises(InputError) as err:
        import_authors(folder, tmp_path / "ws")
    assert err.value.path == str(path)
    assert err.value.line == (2 if name == "1_aspects" else 1)
    assert err.value.field == field
    assert not (tmp_path / "ws").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".ws")]


def test_persona_set_with_repeated_ids_is_rejected(tmp_path):
    folder = _amazon_folder(tmp_path / "amazon")
    _write(folder, "3_personas", [{"item_id": "B2", "item_summary": "s", "personas": [PERSONAS[0], PERSONAS[0]]}])
    with pytest.raises(InputError, match="unique") as err:
        import_authors(folder, tmp_path / "ws")
    assert err.value.line == 1 and not (tmp_path / "ws").exists()


def test_skip_bad_lines_counts_them_and_keeps_nothing_of_a_bad_line(tmp_path):
    folder = _amazon_folder(tmp_path / "amazon")
    _write(
        folder,
        "2.5_grouped",
        [
            "{broken",
            {
                "item_id": "B5",
                "item_summary": "s",
                "aspects": [
                    {
                        "review_id": 9,
                        "item_id": "B5",
                        "user_id": "U9",
                        "rating": 2.0,
                        "timestamp": 3,
                        "review_text": "ok",
                        "extracted_aspects": AMAZON_ASPECTS,
                    },
                    {
                        "review_id": 10,
                        "item_id": "B5",
                        "user_id": "U10",
                        "rating": "bad",
                        "timestamp": 3,
                        "review_text": "ok",
                        "extracted_aspects": AMAZON_ASPECTS,
                    },
                ],
            },
        ],
    )
    with pytest.raises(InputError):
        read_authors_dir(folder)
    art = read_authors_dir(folder, skip_bad_lines=True)
    assert art.report["files"]["2.5_grouped"]["bad_lines"]["skipped"] == 2
    assert ("U9", "B5") not in art.reviews and "B5" not in art.summaries


def test_mixed_dialects_and_an_empty_folder_are_refused(tmp_path):
    folder = _amazon_folder(tmp_path / "mixed")
    _write(
        folder,
        "3.5_history_loo",
        [
            {
                "user_id": "U1",
                "reviews": [
                    {
                        "user_id": "U1",
                        "item_id": "B1",
                        "timestamp": 1606780947726,
                        "rating": 4.0,
                        "extracted": YELP_ASPECTS,
                    }
                ],
            }
        ],
    )
    with pytest.raises(InputError, match="mixes"):
        read_authors_dir(folder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no authors' artifact file"):
        read_authors_dir(tmp_path / "empty")


# -- import, export, round trip on the small folder -----------------------------------------------


def test_import_writes_labeled_records_and_stages(tmp_path):
    ws = import_authors(_amazon_folder(tmp_path / "amazon"), tmp_path / "ws")
    stages = ws.manifest()["stages"]
    for stage in ("data", "summaries", "aspects", "personas", "alignment"):
        assert stages[stage]["status"] == "done", stage
    assert stages["aspects"]["config"]["origin"] == ORIGIN
    aspects = load_aspects(ws)
    assert {r.backend for r in aspects.values()} == {ORIGIN}
    b1 = aspects["U1|B1"]
    assert b1.aspects.purchase_purpose_reason is None  # the authors' "null" string is a null
    assert b1.null_fraction == 0.5 and b1.kept
    assert load_personas(ws)["B2"].personas[0].preference_rationale == PERSONAS[0]["Preference_Rationale"]
    assert load_alignment(ws)["U1|B2"].persona_id == "P1"
    assert set(load_summaries(ws)) == {"B1", "B2", "B3"}
    reviews = pd.read_parquet(ws.data_dir / "reviews.parquet")
    assert len(reviews) == 3  # kcore 0: the sample's sparse users stay
    assert ws.manifest()["authors"]["coverage"]["held_out_is_latest_review"] == 1


def test_import_refuses_to_replace_a_workspace_without_overwrite(tmp_path, capsys):
    folder = _amazon_folder(tmp_path / "amazon")
    assert cli_main(["authors", "import", str(folder), "--out", str(tmp_path / "ws")]) == 0
    assert cli_main(["authors", "import", str(folder), "--out", str(tmp_path / "ws")]) == 2
    assert "already exists" in capsys.readouterr().err
    assert cli_main(["authors", "import", str(folder), "--out", str(tmp_path / "ws"), "--overwrite"]) == 0


# -- the real sample ------------------------------------------------------------------------------


def _key_paths(value, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        out = set()
        for k, v in value.items():
            out.add(f"{prefix}.{k}")
            out |= _key_paths(v, f"{prefix}.{k}")
        return out
    if isinstance(value, list):
        return set().union(*(_key_paths(v, f"{prefix}[]") for v in value)) if value else set()
    return set()


def _file_shape(path: Path) -> tuple[set[str], dict[str, set[str]]]:
    keys: set[str] = set()
    top_types: dict[str, set[str]] = {}
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            keys |= _key_paths(record)
            for k in ("review_id", "timestamp", "rating"):
                if k in record:
                    top_types.setdefault(k, set()).add(type(record[k]).__name__)
    return keys, top_types


def _records(ws) -> dict[str, list[str]]:
    out = {}
    for name in ("summaries", "aspects", "personas", "alignment", "authors_selections"):
        out[name] = sorted((ws.offline_dir / f"{name}.jsonl").read_text().splitlines())
    for name in ("reviews", "items", "split", "authors_items", "authors_review_ids"):
        frame = pd.read_parquet(ws.data_dir / f"{name}.parquet")
        out[name] = sorted(json.dumps(r, sort_keys=True, default=str) for r in frame.to_dict("records"))
    return out


SAMPLE = {
    "amazon": {"reviews": 1162, "persona_items": 51, "personas": 306, "selections": 50, "dialect": "amazon"},
    "yelp": {"reviews": 3093, "persona_items": 58, "personas": 382, "selections": 49, "dialect": "yelp"},
}


@pytest.fixture(scope="module", params=sorted(SAMPLE))
def sample_round_trip(request, shared_data, tmp_path_factory):
    domain = request.param
    source = shared_data / "persona4rec-authors-sample" / domain
    tmp = tmp_path_factory.mktemp(f"authors-{domain}")
    assert cli_main(["authors", "import", str(source), "--out", str(tmp / "ws")]) == 0
    assert cli_main(["authors", "export", str(tmp / "ws"), "--out", str(tmp / "export")]) == 0
    again = import_authors(tmp / "export", tmp / "ws2")
    from persona4rec.workspace import Workspace

    return domain, source, Workspace.open(tmp / "ws"), tmp / "export", again


def test_sample_imports_with_its_counts_and_origin(sample_round_trip):
    domain, _, ws, _, _ = sample_round_trip
    expected = SAMPLE[domain]
    manifest = ws.manifest()
    assert manifest["authors"]["dialect"] == expected["dialect"]
    assert manifest["stages"]["data"]["counts"]["interactions"] == expected["reviews"]
    personas = load_personas(ws)
    assert len(personas) == expected["persona_items"]
    assert sum(len(p.personas) for p in personas.values()) == expected["personas"]
    assert all(2 <= len(p.personas) <= 7 for p in personas.values())
    assert len(load_alignment(ws)) == expected["selections"]
    assert {r.backend for r in load_summaries(ws).values()} == {ORIGIN}
    if domain == "yelp":
        wendys = personas["Qhi17dmb6XCvP8axcJMYGA"].personas[0]
        assert (wendys.id, wendys.name) == ("P1", "Frustrated Fast Food Fan")
        assert manifest["stages"]["aspects"]["counts"]["dropped_over_75pct_null"] >= 0


def test_the_app_catalogue_lists_every_item_with_personas(sample_round_trip):
    """The sample's persona sets belong mostly to items no sampled review names; the app browses them too."""
    from persona4rec.views.catalogue import load_catalogue
    from persona4rec.views.items import item_table

    _, _, ws, _, _ = sample_round_trip
    table = item_table(load_catalogue(ws))
    with_personas = table[table["personas"] > 0]
    assert set(with_personas["item_id"]) == set(load_personas(ws))
    assert with_personas["title"].str.len().gt(0).any()


def test_sample_exports_exactly_the_authors_keys(sample_round_trip):
    _, source, _, export, _ = sample_round_trip
    for name in FILES:
        original = next(source.glob(f"{name}.jsonl*"))
        mine = export / f"{name}.jsonl"
        assert _file_shape(mine) == _file_shape(original), name


def test_sample_round_trip_gives_equal_records_and_tables(sample_round_trip):
    _, _, ws, _, again = sample_round_trip
    first, second = _records(ws), _records(again)
    for name in first:
        assert first[name] == second[name], name


def test_offline_group_aliases_import_and_export(tmp_path):
    folder = _amazon_folder(tmp_path / "amazon")
    assert cli_main(["offline", "import-authors", str(folder), "--out", str(tmp_path / "ws")]) == 0
    assert cli_main(["offline", "export-authors", str(tmp_path / "ws"), "--out", str(tmp_path / "out"), "--gzip"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [f"{n}.jsonl.gz" for n in FILES] + ["persona4rec_origin.json"]
    )
    assert cli_main(["offline", "export-authors", str(tmp_path / "ws"), "--out", str(tmp_path / "out")]) == 2
    again = import_authors(tmp_path / "out", tmp_path / "ws2")
    assert _records(again)["aspects"] == _records(import_authors(folder, tmp_path / "ws3"))["aspects"]


def test_a_workspace_without_offline_records_exports_its_reviews_whole(tmp_path):
    from persona4rec.demo.catalogue import build_demo_workspace

    ws = build_demo_workspace(tmp_path / "demo", seed=1, n_items=40, n_users=160)
    result = export_authors(ws, tmp_path / "out")
    assert result["lines"]["1_aspects"] == len(pd.read_parquet(ws.data_dir / "reviews.parquet"))
    assert result["lines"]["3_personas"] == 0
    back = import_authors(tmp_path / "out", tmp_path / "back")
    assert _records(back)["reviews"] == _records_of(ws, "reviews")
    assert _records(back)["split"] == _records_of(ws, "split")
    assert back.manifest()["stages"]["aspects"]["counts"]["reviews"] == 0


def _records_of(ws, table: str) -> list[str]:
    frame = pd.read_parquet(ws.data_dir / f"{table}.parquet")
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in frame.to_dict("records"))


def test_records_keep_the_label_of_the_backend_that_made_them_through_export(tmp_path):
    folder = _amazon_folder(tmp_path / "amazon")
    (folder / "persona4rec_origin.json").write_text(
        json.dumps({"backends": {"personas": "extractive:all-MiniLM-L6-v2", "aspects": None}})
    )
    ws = import_authors(folder, tmp_path / "ws")
    assert {r.backend for r in load_personas(ws).values()} == {"extractive:all-MiniLM-L6-v2"}
    assert {r.backend for r in load_aspects(ws).values()} == {ORIGIN}
    result = export_authors(ws, tmp_path / "out")
    assert result["backends"]["personas"] == "extractive:all-MiniLM-L6-v2"
    back = import_authors(tmp_path / "out", tmp_path / "back")
    assert back.stage_info("personas")["config"]["backend"] == "extractive:all-MiniLM-L6-v2"
    (folder / "persona4rec_origin.json").write_text(json.dumps({"backends": {"personas": 7}}))
    with pytest.raises(InputError) as err:
        import_authors(folder, tmp_path / "ws2")
    assert err.value.field == "backends.personas" and not (tmp_path / "ws2").exists()
