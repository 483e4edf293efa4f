"""The loaders on the real datasets in ../shared/data (skipped where that folder is absent)."""

from __future__ import annotations

import json

import pytest

from persona4rec.cli import main
from persona4rec.data.formats import detect_format
from persona4rec.data.importer import load_workspace_tables
from persona4rec.data.kcore import kcore
from persona4rec.workspace import Workspace

pytestmark = pytest.mark.shared_data

MI = "amazon2014-musical-instruments-5core/reviews_Musical_Instruments_5.jsonl.gz"
DM = "amazon2014-digital-music-5core-prefix/reviews_Digital_Music_5.prefix.jsonl.gz"
DM_META = "amazon2014-digital-music-5core-prefix/meta_Digital_Music.subset.jsonl.gz"


@pytest.fixture(scope="module")
def imported(shared_data, tmp_path_factory) -> dict[str, Workspace]:
    root = tmp_path_factory.mktemp("real")
    assert main(["data", "import", str(shared_data / MI), "--out", str(root / "mi")]) == 0
    assert (
        main(
            [
                "data",
                "import",
                str(shared_data / DM),
                "--meta",
                str(shared_data / DM_META),
                "--format",
                "amazon2014",
                "--out",
                str(root / "dm"),
            ]
        )
        == 0
    )
    return {"mi": Workspace.open(root / "mi"), "dm": Workspace.open(root / "dm")}


def stats_of(ws: Workspace, capsys) -> dict:
    capsys.readouterr()
    assert main(["data", "stats", str(ws.root), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_musical_instruments_is_already_a_5core(imported, shared_data, capsys):
    assert detect_format(shared_data / MI) == "amazon2014"
    reviews, items, split = load_workspace_tables(imported["mi"])
    assert (len(reviews), reviews["user_id"].nunique(), reviews["item_id"].nunique()) == (10_261, 1_429, 900)
    assert kcore(reviews, 5)[1].interactions_removed == 0
    stats = stats_of(imported["mi"], capsys)
    assert stats["counts_before"] == {"interactions": 10_261, "users": 1_429, "items": 900}
    assert stats["ratings"] == {"1": 217, "2": 250, "3": 772, "4": 2_084, "5": 6_938}  # as SOURCE.txt
    assert stats["dates"] == {"first": "2004-09-18", "last": "2014-07-22"}
    assert stats["metadata"] == {"title": 0.0, "description": 0.0, "categories": 0.0}  # no metadata shipped
    assert stats["cleaning"]["items_without_metadata"] == 900
    assert stats["split"] == {"train": 10_261 - 2 * 1_429, "valid": 1_429, "test": 1_429}
    assert stats["text"]["with_text_share"] == pytest.approx(0.999, abs=0.001)


def test_digital_music_prefix_under_5core(imported, capsys):
    reviews, items, split = load_workspace_tables(imported["dm"])
    assert (len(reviews), reviews["user_id"].nunique(), reviews["item_id"].nunique()) == (2_480, 268, 206)
    assert len(items) == 206 and set(items["item_id"]) == set(reviews["item_id"])
    stats = stats_of(imported["dm"], capsys)
    assert stats["counts_before"] == {"interactions": 6_908, "users": 2_490, "items": 382}
    assert stats["density"] == pytest.approx(0.045, abs=0.0005)
    assert stats["text"]["with_text_share"] == 1.0
    # SOURCE.txt: title 100%, categories 100%. Its "description 82%" counts the key over all 382 items,
    # empty strings included; non-empty descriptions of the 206 5-core items are 138 (67.0%).
    assert stats["metadata"]["title"] == 1.0 and stats["metadata"]["categories"] == 1.0
    assert (items["description"].str.len() > 0).sum() == 138
    assert stats["cleaning"]["kcore"]["interactions_removed"] == 6_908 - 2_480
    assert not items["title"].str.contains("<").any()


def test_stats_text_output(imported, capsys):
    capsys.readouterr()
    assert main(["data", "stats", str(imported["dm"].root)]) == 0
    text = capsys.readouterr().out
    for words in (
        "users          268",
        "items          206",
        "interactions   2,480",
        "split          train 1,944",
        "k-core       k=5: removed 4,428 interactions",
    ):
        assert words in text
