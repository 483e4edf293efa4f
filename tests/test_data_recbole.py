"""RecBole atomic files (`--format recbole`): `.inter` + `.item` with name:type headers, in RecBole's own
layout (ML-1M's columns), another dataset's field names through --map, and bad headers and cells."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from persona4rec.cli import main
from persona4rec.data.formats import ImportConfig, ImportRequest, detect_format, load_dataset
from persona4rec.data.importer import load_workspace_tables

INTER_HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float\treview:token_seq"
ITEM_HEADER = "item_id:token\tmovie_title:token_seq\trelease_year:token\tgenre:token_seq\tvector:float_seq"
T0 = 978_300_760


def inter_lines(n_users: int = 3, n_items: int = 3) -> list[str]:
    return [
        f"{u}\t{100 + i}\t{1 + (u + i) % 5}\t{T0 + 10 * u + i}\treview words {u} {i}"
        for u in range(1, n_users + 1)
        for i in range(n_items)
    ]


ITEMS = [
    "100\tToy Story\t1995\tAnimation Children's Comedy\t0.5 1.5",
    "101\tJumanji\t1995\tAdventure Fantasy\t",
    "102\tHeat\t1995\tAction\t2",
    "999\tNever Rated\t2000\tDrama\t",
]


def write(path: Path, header: str, lines: list[str]) -> Path:
    data = ("\n".join([header, *lines]) + "\n").encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


@pytest.fixture()
def ml(tmp_path) -> Path:
    write(tmp_path / "ml.item", ITEM_HEADER, ITEMS)
    return write(tmp_path / "ml.inter", INTER_HEADER, inter_lines())


def test_recbole_inter_and_the_item_file_beside_it(ml, tmp_path, capsys):
    assert detect_format(ml) == "recbole"
    rc = main(["data", "import", str(ml), "--kcore", "0", "--out", str(tmp_path / "ws")])  # auto, .item found
    assert rc == 0, capsys.readouterr().err
    reviews, items, split = load_workspace_tables(tmp_path / "ws")
    assert len(reviews) == 9 and len(split) == 9
    first = reviews.set_index(["user_id", "item_id"]).loc[("1", "100")]
    assert first["rating"] == 2.0 and first["timestamp"] == (T0 + 10) * 1000 and first["text"] == "review words 1 0"
    items = items.set_index("item_id")
    assert set(items.index) == {"100", "101", "102"}
    toy = items.loc["100"]
    assert toy["title"] == "Toy Story" and toy["categories"] == ["Animation", "Children's", "Comedy"]
    assert toy["attributes"] == {"release_year": "1995", "vector": [0.5, 1.5]}  # typed as declared
    assert items.loc["102", "attributes"] == {"release_year": "1995", "vector": [2.0]}
    report = json.loads((tmp_path / "ws" / "data" / "import_report.json").read_text())
    assert report["format"] == "recbole" and report["files"]["items"]["path"].endswith("ml.item")
    assert report["table"]["reviews"]["time_unit"] == "s"
    assert report["table"]["items"]["columns"] == {"item_id": "item_id", "title": "movie_title", "categories": "genre"}
    manifest = json.loads((tmp_path / "ws" / "manifest.json").read_text())
    assert [Path(i["path"]).name for i in manifest["inputs"]] == ["ml.inter", "ml.item"]


def test_other_field_names_through_the_map(tmp_path):
    """Yelp in RecBole's layout: business_id, stars, date; gzip too."""
    header = "review_id:token\tuser_id:token\tbusiness_id:token\tstars:float\tuseful:float\tdate:float"
    lines = [f"r{k}\tu{k % 2}\tb{k // 2}\t{1 + k % 5}\t{k}\t{T0 + k}" for k in range(6)]
    inter = write(tmp_path / "yelp.inter.gz", header, lines)
    write(tmp_path / "yelp.item.gz", "business_id:token\tname:token_seq\tstars:float", ["b0\tPho Co\t4.5"])
    ds = load_dataset(
        ImportRequest(
            reviews=inter,
            config=ImportConfig(format="recbole", column_map="item_id=business_id,rating=stars,timestamp=date"),
        )
    )
    assert ds.reviews["item_id"].tolist() == ["b0", "b0", "b1", "b1", "b2", "b2"]
    assert ds.reviews["rating"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 1.0]
    b0 = ds.items.set_index("item_id").loc["b0"]
    assert b0["title"] == "Pho Co" and b0["attributes"] == {"stars": 4.5}


def test_bad_header_and_cells_name_line_and_column(tmp_path, capsys):
    cases = {
        "untyped": ("user_id\titem_id:token\ttimestamp:float", ["1\t2\t3"], "line 1: not a RecBole atomic-file header"),
        "unknown-type": ("user_id:int\titem_id:token\ttimestamp:float", ["1\t2\t3"], "found 'user_id:int'"),
        "bad-float": (INTER_HEADER, [*inter_lines()[:2], "1\t102\tfive\t1\tx"], "line 4, field 'rating': expected"),
        "bad-time": (INTER_HEADER, [*inter_lines()[:2], "1\t102\t3\tsoon\tx"], "line 4, field 'timestamp'"),
        "short-row": (INTER_HEADER, [*inter_lines()[:2], "1\t102"], "line 4: row has 2 values, the header has 5"),
    }
    for name, (header, lines, words) in cases.items():
        path = write(tmp_path / f"{name}.inter", header, lines)
        rc = main(["data", "import", str(path), "--format", "recbole", "--kcore", "0", "--out", str(tmp_path / "ws")])
        err = capsys.readouterr().err
        expected = f"{path}, {words}" if words.startswith("line") else words
        assert rc == 2 and expected in err, (name, err)
        assert not (tmp_path / "ws").exists()
    write(tmp_path / "bad.item", ITEM_HEADER, ["100\tToy Story\t1995\tComedy\tnot numbers"])
    path = write(tmp_path / "bad.inter", INTER_HEADER, inter_lines())
    rc = main(["data", "import", str(path), "--format", "recbole", "--kcore", "0", "--out", str(tmp_path / "ws")])
    assert rc == 2 and "bad.item, line 2, field 'vector': expected float_seq numbers" in capsys.readouterr().err
    assert not (tmp_path / "ws").exists()
