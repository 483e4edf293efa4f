"""The generic table loader (`--format table`): CSV, TSV, JSON lines and Parquet, gzip or plain, through a
column map; every timestamp kind; every bad case named by file, line (or Parquet row) and column, with no
workspace left; unmapped columns as item attributes; the Musical Instruments reviews rewritten as Parquet."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from persona4rec.cli import main
from persona4rec.data.formats import ImportConfig, ImportRequest, detect_format, load_dataset, preview_table
from persona4rec.data.importer import import_dataset, load_workspace_tables
from persona4rec.errors import ConfigError, InputError

T0 = 1_400_000_000  # 2014-05-13T16:53:20Z
MAP = "user_id=customer,item_id=sku,rating=stars,timestamp=when,title=headline,text=body"


def rows(n_users: int = 3, n_items: int = 3, when=lambda i: T0 + i) -> list[dict]:
    """Every user reviews every item: a 3-core, so k-core keeps all of it."""
    out = []
    for u in range(n_users):
        for i in range(n_items):
            k = u * n_items + i
            out.append(
                {
                    "customer": f"u{u}",
                    "sku": f"s{i}",
                    "stars": 1 + k % 5,
                    "when": when(k),
                    "headline": f"take {k}",
                    "body": f"review {k} of s{i}",
                    "shelf": f"aisle {i}",  # one value per item: an item attribute
                    "votes": k,  # varies within an item: dropped
                }
            )
    return out


def write_table(path: Path, records: list[dict], *, gz: bool | None = None) -> Path:
    """`records` as the file kind its name says (.csv, .tsv, .jsonl, .parquet; .gz compresses)."""
    gz = path.name.endswith(".gz") if gz is None else gz
    name = path.name.removesuffix(".gz")
    if name.endswith(".parquet"):
        buffer = io.BytesIO()
        pd.DataFrame(records).to_parquet(buffer, index=False)
        data = buffer.getvalue()
    elif name.endswith(".jsonl"):
        data = "".join(json.dumps(r) + "\n" for r in records).encode()
    else:
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(records[0]), dialect="excel-tab" if ".tsv" in name else "excel")
        writer.writeheader()
        writer.writerows(records)
        data = text.getvalue().encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def load(path: Path, meta: Path | None = None, **config):
    return load_dataset(ImportRequest(reviews=path, meta=meta, config=ImportConfig(format="table", **config)))


def import_cli(tmp_path: Path, path: Path, *extra: str, mapping: str = MAP) -> tuple[int, Path]:
    out = tmp_path / "ws"
    argv = ["data", "import", str(path), "--format", "table", "--kcore", "0", "--out", str(out), *extra]
    return main(argv + (["--map", mapping] if mapping else [])), out


def assert_no_workspace(tmp_path: Path) -> None:
    assert not (tmp_path / "ws").exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".ws")], "staging folder left behind"


# -- every file kind ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["r.csv", "r.csv.gz", "r.tsv", "r.tsv.gz", "r.jsonl", "r.jsonl.gz", "r.parquet"])
def test_every_kind_reads_the_same_reviews(tmp_path, name):
    path = write_table(tmp_path / name, rows())
    if "jsonl" not in name:
        assert detect_format(path) == "table"
    ds = load(path, column_map=MAP)
    assert ds.source == "table"
    got = ds.reviews.sort_values(["user_id", "item_id"]).reset_index(drop=True)
    assert got["user_id"].tolist() == [f"u{u}" for u in range(3) for _ in range(3)]
    assert got["item_id"].tolist() == [f"s{i}" for _ in range(3) for i in range(3)]
    assert got["rating"].tolist() == [float(1 + k % 5) for k in range(9)]
    assert got["timestamp"].tolist() == [(T0 + k) * 1000 for k in range(9)]
    assert got["title"].tolist()[:2] == ["take 0", "take 1"] and got["text"].tolist()[0] == "review 0 of s0"
    info = ds.report["table"]["reviews"]
    assert info["kind"] == name.split(".")[1] and info["gzip"] == name.endswith(".gz")
    assert info["time_unit"] == "s" and info["time_unit_detected"]
    # shelf holds one value per item: it is the item's; votes varies within an item: dropped, and said so
    items = ds.items.set_index("item_id")
    assert items.loc["s2", "attributes"] == {"shelf": "aisle 2"}
    assert info["item_attribute_columns"] == ["shelf"] and info["dropped_columns"] == {"votes": "varies within an item"}


def test_a_key_not_mapped_reads_the_column_of_its_name(tmp_path):
    records = [{"user_id": r["customer"], "item_id": r["sku"], "timestamp": r["when"]} for r in rows()]
    ds = load(write_table(tmp_path / "r.csv", records))
    assert len(ds.reviews) == 9 and ds.reviews["rating"].isna().all()  # no rating column: NaN, as the schema says
    assert set(ds.reviews["title"]) == {""}


def test_whole_import_through_the_cli_and_stats(tmp_path, capsys):
    path = write_table(tmp_path / "r.csv", rows())
    rc, out = import_cli(tmp_path, path)
    assert rc == 0, capsys.readouterr().err
    reviews, items, split = load_workspace_tables(out)
    assert len(reviews) == 9 and len(split) == 9 and items.set_index("item_id").loc["s0", "attributes"]["shelf"]
    capsys.readouterr()
    assert main(["data", "stats", str(out)]) == 0
    text = capsys.readouterr().out
    assert "(source: table)" in text and "interactions   9" in text and "ratings        1: 2  2: 2" in text


# -- timestamps ------------------------------------------------------------------------------------------
ISO_CASES = {
    "2014-05-13T16:53:20Z": T0,
    "2014-05-13T18:53:20+02:00": T0,
    "2014-05-13 16:53:20": T0,  # naive: UTC
    "2014-05-13": T0 - (16 * 3600 + 53 * 60 + 20),
}


@pytest.mark.parametrize(
    "values, unit, expected_ms",
    [
        ([T0, T0 + 1, T0 + 2], "s", [T0 * 1000, (T0 + 1) * 1000, (T0 + 2) * 1000]),
        ([T0 * 1000 + 5, T0 * 1000 + 6, T0 * 1000 + 7], "ms", [T0 * 1000 + 5, T0 * 1000 + 6, T0 * 1000 + 7]),
        ([f"{T0}.5", f"{T0}", f"{T0 + 1}.25"], "s", [T0 * 1000 + 500, T0 * 1000, (T0 + 1) * 1000 + 250]),
        (list(ISO_CASES)[:3], "iso", [v * 1000 for v in list(ISO_CASES.values())[:3]]),
        (
            ["2014-05-13", "2014-05-14", "2014-05-15"],
            "iso",
            [(ISO_CASES["2014-05-13"] + d * 86_400) * 1000 for d in range(3)],
        ),
    ],
    ids=["seconds", "milliseconds", "fractional-seconds-text", "iso-offsets", "iso-dates"],
)
@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_time_units_are_detected_per_column(tmp_path, values, unit, expected_ms, kind):
    records = [{"user_id": "u", "item_id": f"i{k}", "timestamp": v} for k, v in enumerate(values)]
    if kind == "parquet" and unit != "iso":
        records = [{**r, "timestamp": float(r["timestamp"])} for r in records]  # one Parquet type per column
    ds = load(write_table(tmp_path / f"r.{kind}", records))
    assert ds.reviews["timestamp"].tolist() == expected_ms
    assert ds.report["table"]["reviews"]["time_unit"] == unit


def test_parquet_timestamp_columns_need_no_unit(tmp_path):
    when = [dt.datetime(2014, 5, 13, 16, 53, 20, tzinfo=dt.UTC), dt.datetime(2014, 5, 13, 16, 53, 21)]
    frame = pd.DataFrame({"user_id": ["u", "u"], "item_id": ["a", "b"], "timestamp": pd.to_datetime(when, utc=True)})
    frame.to_parquet(tmp_path / "r.parquet")
    ds = load(tmp_path / "r.parquet")
    assert ds.reviews["timestamp"].tolist() == [T0 * 1000, (T0 + 1) * 1000]


def test_iso_dates_outside_years_1_to_9999_are_bad_values(tmp_path, capsys):
    records = [{"user_id": "u", "item_id": f"i{k}", "timestamp": f"2014-05-1{k}T00:00:00Z"} for k in range(3)]
    records[1]["timestamp"] = "9999-12-31T23:59:59-14:00"  # in UTC: the year 10000
    path = write_table(tmp_path / "r.csv", records)
    rc, _ = import_cli(tmp_path, path, mapping="")
    err = capsys.readouterr().err
    assert rc == 2 and "r.csv, line 3, field 'timestamp': date 9999-12-31T23:59:59-14:00 is outside the years" in err
    assert_no_workspace(tmp_path)


def test_time_unit_flag_overrides_detection(tmp_path):
    path = write_table(tmp_path / "r.csv", [{"user_id": "u", "item_id": "a", "timestamp": 86_400_000}])
    assert load(path).reviews["timestamp"].tolist() == [86_400_000 * 1000]  # detected: seconds (year 1972)
    ds = load(path, time_unit="ms")
    assert ds.reviews["timestamp"].tolist() == [86_400_000] and not ds.report["table"]["reviews"]["time_unit_detected"]
    with pytest.raises(ConfigError, match="time unit 'hours'"):
        ImportConfig(time_unit="hours")


# -- bad cases: each names file, line (or row) and column, and leaves no workspace ---------------------------
def _bad_rows(change: dict) -> list[dict]:
    records = rows()
    records[4] = {**records[4], **change}  # the 5th record: line 6 of a CSV (line 1 is the header), Parquet row 5
    return records


BAD = {
    # name: (the change to record 5, column, words in the message)
    "time-text": ({"when": "yesterday"}, "when", "expected Unix seconds (a number), found str 'yesterday'"),
    "time-negative": ({"when": -5}, "when", "time is negative"),
    "time-huge": ({"when": 1e20}, "when", "is past the year 9999"),
    "rating-text": ({"stars": "five"}, "stars", "expected a number, found str 'five'"),
    "rating-empty": ({"stars": ""}, "stars", "required value is empty"),
    "rating-out-of-scale": ({"stars": 10**9}, "stars", "rating 1e+09 is outside the 1–5 scale"),
    "user-empty": ({"customer": ""}, "customer", "id is empty"),
}


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_bad_value_names_file_row_and_column(tmp_path, capsys, case, kind):
    change, column, words = BAD[case]
    records = _bad_rows(change)
    if kind == "parquet":  # a Parquet column has one type: the one holding the bad value is text throughout
        records = [{**r, column: str(r[column])} for r in records]
    path = write_table(tmp_path / f"r.{kind}", records)
    rc, _ = import_cli(tmp_path, path, "--rating-scale", "1,5")
    err = capsys.readouterr().err.strip()
    where = {"csv": "line 6", "jsonl": "line 5", "parquet": "row 5"}[kind]
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert f"{path}, {where}, field '{column}'" in err and words.split(" found")[0] in err, err
    assert_no_workspace(tmp_path)


def test_skip_bad_lines_counts_every_bad_value(tmp_path, capsys):
    records = rows(n_users=4)
    for k, change in enumerate(c for c, _, _ in BAD.values()):
        records[k] = {**records[k], **change}
    path = write_table(tmp_path / "r.csv", records)
    rc, out = import_cli(tmp_path, path, "--rating-scale", "1,5", "--skip-bad-lines")
    assert rc == 0, capsys.readouterr().err
    report = json.loads((out / "data" / "import_report.json").read_text())
    bad = report["files"]["reviews"]["bad_lines"]
    assert bad["by_reason"] == {"bad_value": 4, "missing_field": 1, "wrong_type": 2}
    assert report["counts_before"]["interactions"] == 12 - len(BAD) and report["rating_scale"] == [1.0, 5.0]


def test_rows_of_the_wrong_width_and_undecodable_bytes(tmp_path, capsys):
    good = write_table(tmp_path / "r.csv", rows()).read_bytes().splitlines(keepends=True)
    truncated = good[:3] + [good[3][:12] + b"\n"] + good[4:]
    (tmp_path / "t.csv").write_bytes(b"".join(truncated))
    rc, _ = import_cli(tmp_path, tmp_path / "t.csv")
    err = capsys.readouterr().err
    assert rc == 2 and re.search(
        r"t\.csv, line 4: row has [1-7] values, the header has 8 columns \(a truncated line", err
    )
    (tmp_path / "u.csv").write_bytes(b"".join(good[:2] + [b"u9,s\xff\xfe,1,1,a,b,c,d\n"] + good[2:]))
    rc, _ = import_cli(tmp_path, tmp_path / "u.csv")
    assert rc == 2 and "u.csv, line 3: not valid UTF-8" in capsys.readouterr().err
    # NUL bytes: in a number, a bad value; in text, a control character that cleaning drops
    (tmp_path / "n.csv").write_bytes(b"".join(good[:5] + [b"u9,s0,1,\x00,a,b,c,d\n"] + good[5:]))
    rc, _ = import_cli(tmp_path, tmp_path / "n.csv")
    assert rc == 2 and "n.csv, line 6, field 'when': expected Unix seconds" in capsys.readouterr().err
    assert_no_workspace(tmp_path)
    (tmp_path / "t.csv").write_bytes(b"".join(good[:5] + [b"u9,s0,1,1400000000,a,b\x00c,d,e\n"] + good[5:]))
    rc, out = import_cli(tmp_path, tmp_path / "t.csv")
    assert rc == 0 and load_workspace_tables(out)[0].set_index("user_id").loc["u9", "text"] == "b c"


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_a_mapped_column_that_is_missing(tmp_path, capsys, kind):
    path = write_table(tmp_path / f"r.{kind}", rows())
    rc, _ = import_cli(tmp_path, path, mapping=MAP.replace("when", "time_of_review"))
    err = capsys.readouterr().err
    where = {"csv": f"{path}, line 1, field", "jsonl": f"{path}, field", "parquet": f"{path}, field"}[kind]
    assert rc == 2 and f"{where} 'time_of_review': column 'time_of_review' (--map timestamp=time_of_review)" in err
    assert "(columns: customer, sku, stars, when, headline, body, shelf, votes)" in err
    assert_no_workspace(tmp_path)


def test_required_key_without_a_column_and_bad_maps(tmp_path, capsys):
    path = write_table(tmp_path / "r.csv", rows())
    rc, _ = import_cli(tmp_path, path, mapping="user_id=customer,item_id=sku")
    assert rc == 2 and "line 1: no column for timestamp: map one with --map timestamp=COLUMN" in capsys.readouterr().err
    for mapping, words in [
        ("usr=customer", "--map: unknown key(s) usr"),
        ("user_id", "expected KEY=COLUMN pairs"),
        ("user_id=a,user_id=b", "user_id is mapped twice"),
    ]:
        rc, _ = import_cli(tmp_path, path, mapping=mapping)
        assert rc == 2 and words in capsys.readouterr().err, mapping
    rc = main(["data", "import", str(path), "--format", "amazon2014", "--map", MAP, "--out", str(tmp_path / "ws")])
    assert rc == 2 and "--map and --meta-map are for --format table or recbole" in capsys.readouterr().err
    assert_no_workspace(tmp_path)


def test_whole_file_problems(tmp_path, capsys):
    cases = {
        "empty.csv": (b"", "file is empty: expected a header line"),
        "header.csv": (b"customer,sku,stars,when\n", "no usable review records"),
        "twice.csv": (b"customer,sku,sku,when\n", "line 1, field 'sku': column named twice"),
        "broken.parquet": (b"PAR1 not really", "not a readable Parquet file"),
        "r.txt": (b"a,b\n", "cannot tell the table format from the name 'r.txt'"),
    }
    for name, (data, words) in cases.items():
        (tmp_path / name).write_bytes(data)
        rc, _ = import_cli(tmp_path, tmp_path / name, mapping="user_id=customer,item_id=sku,timestamp=when")
        err = capsys.readouterr().err
        assert rc == 2 and f"{tmp_path / name}" in err and words in err, (name, err)
    rc, _ = import_cli(tmp_path, tmp_path / "absent.csv")
    assert rc == 2 and "absent.csv: file not found" in capsys.readouterr().err
    assert_no_workspace(tmp_path)


# -- the items table ---------------------------------------------------------------------------------------
def test_items_table_maps_title_description_categories_brand(tmp_path):
    reviews = write_table(tmp_path / "r.csv", rows())
    meta = write_table(
        tmp_path / "items.jsonl",
        [
            {
                "code": "s0",
                "name": "Pop filter",
                "blurb": ["Double screen.", "Gooseneck."],
                "cats": ["Studio", "Microphones"],
                "maker": "Nady",
                "price": 9.99,
                "shelf": "front",
            },
            {"code": "s1", "name": "<b>Cable</b>", "cats": "Studio > Cables", "maker": "Mogami", "colour": None},
            {"code": "s2", "name": '<span class="a-size-medium a-color-secondary"', "blurb": "Warm tone. Cheap."},
            {"code": "never", "name": "not reviewed"},
        ],
    )
    meta_map = "item_id=code,title=name,description=blurb,categories=cats,brand=maker"
    rc = main(["data", "import", str(reviews), "--format", "table", "--map", MAP, "--meta", str(meta),
               "--meta-map", meta_map, "--kcore", "0", "--out", str(tmp_path / "ws")])  # fmt: skip
    assert rc == 0
    _, items, _ = load_workspace_tables(tmp_path / "ws")
    items = items.set_index("item_id")
    assert items.loc["s0", "title"] == "Pop filter" and items.loc["s0", "description"] == "Double screen. Gooseneck."
    assert items.loc["s0", "categories"] == ["Studio", "Microphones"]
    # the items file's own value wins over the reviews file's per-item column
    assert items.loc["s0", "attributes"] == {"brand": "Nady", "price": 9.99, "shelf": "front"}
    assert items.loc["s1", "title"] == "Cable" and items.loc["s1", "categories"] == ["Studio", "Cables"]
    assert items.loc["s1", "attributes"] == {"brand": "Mogami", "shelf": "aisle 1"}
    assert items.loc["s2", "title"] == "Warm tone."  # the cut-off tag was the whole title: from the description
    report = json.loads((tmp_path / "ws" / "data" / "import_report.json").read_text())
    assert report["cleaning"]["items"]["markup_only_titles_replaced"] == {"description": 1}
    assert report["files"]["items"]["items_without_reviews"] == 1
    assert report["table"]["items"]["columns"] == {
        "item_id": "code",
        "title": "name",
        "description": "blurb",
        "categories": "cats",
        "brand": "maker",
    }


def test_items_id_column_defaults_to_the_reviews_one(tmp_path):
    reviews = write_table(tmp_path / "r.csv", rows())
    meta = write_table(tmp_path / "m.csv", [{"sku": "s0", "title": "Pop filter", "categories": "a|b;c"}])
    ds = load(reviews, meta, column_map=MAP)
    item = ds.items.set_index("item_id").loc["s0"]
    assert item["title"] == "Pop filter" and item["categories"] == ["a", "b;c"]  # the first separator it holds
    with pytest.raises(ConfigError, match="--meta-map needs --meta"):
        load(reviews, column_map=MAP, meta_column_map="title=name")


def test_bad_items_row_names_the_items_file(tmp_path, capsys):
    reviews = write_table(tmp_path / "r.csv", rows())
    meta = write_table(tmp_path / "m.jsonl", [{"sku": "s0", "title": "x"}, {"sku": "s1", "categories": {"a": 1}}])
    rc, _ = import_cli(tmp_path, reviews, "--meta", str(meta))
    assert rc == 2 and f"{meta}, line 2, field 'categories': expected categories" in capsys.readouterr().err
    assert_no_workspace(tmp_path)


# -- preview (what the app's import form shows first) --------------------------------------------------------
def test_preview_suggests_a_column_map(tmp_path):
    records = [
        {"reviewerID": "u", "asin": "a", "overall": 5, "unixReviewTime": T0 * 1000, "reviewText": "x", "n": 1}
    ] * 7
    preview = preview_table(write_table(tmp_path / "r.csv.gz", records), rows=3)
    assert preview.kind == "csv" and preview.gzip and len(preview.rows) == 3
    assert preview.columns == ["reviewerID", "asin", "overall", "unixReviewTime", "reviewText", "n"]
    assert preview.column_map == {
        "user_id": "reviewerID",
        "item_id": "asin",
        "rating": "overall",
        "timestamp": "unixReviewTime",
        "text": "reviewText",
    }
    assert preview.time_unit == "ms" and preview.rows[0]["asin"] == "a"
    with pytest.raises(InputError, match="cannot tell the table format"):
        preview_table(tmp_path / "r.xlsx")


# -- the same data as the amazon2014 loader reads it -----------------------------------------------------------
MI = "amazon2014-musical-instruments-5core/reviews_Musical_Instruments_5.jsonl.gz"


@pytest.mark.shared_data
def test_musical_instruments_as_parquet_gives_the_amazon2014_counts(shared_data, tmp_path, capsys):
    with gzip.open(shared_data / MI, "rt", encoding="utf-8") as fh:
        original = pd.DataFrame([json.loads(line) for line in fh])  # ids as text (asins have leading zeros)
    renamed = original.rename(
        columns={
            "reviewerID": "shopper",
            "asin": "product",
            "overall": "score",
            "unixReviewTime": "reviewed_at",
            "summary": "heading",
            "reviewText": "comment",
        }
    )
    renamed.to_parquet(tmp_path / "mi.parquet", index=False)
    mapping = "user_id=shopper,item_id=product,rating=score,timestamp=reviewed_at,title=heading,text=comment"
    stats = {}
    for name, argv in {
        "table": [str(tmp_path / "mi.parquet"), "--format", "table", "--map", mapping],
        "amazon2014": [str(shared_data / MI), "--format", "amazon2014"],
    }.items():
        assert main(["data", "import", *argv, "--out", str(tmp_path / name)]) == 0
        capsys.readouterr()
        assert main(["data", "stats", str(tmp_path / name), "--json"]) == 0
        stats[name] = json.loads(capsys.readouterr().out)
    table, amazon = stats["table"], stats["amazon2014"]
    assert (table["interactions"], table["users"], table["items"]) == (10_261, 1_429, 900)
    for key in ("interactions", "users", "items", "ratings", "text", "dates", "split", "counts_before"):
        assert table[key] == amazon[key], key
    reviews = {name: load_workspace_tables(tmp_path / name)[0] for name in stats}
    pd.testing.assert_frame_equal(reviews["table"], reviews["amazon2014"])


def test_import_dataset_takes_a_mapping_dict(tmp_path):
    """What the app's import page calls: the same function the CLI does, with the map as a dict."""
    path = write_table(tmp_path / "r.parquet", rows())
    config = ImportConfig(
        format="table",
        kcore=0,
        column_map={"user_id": "customer", "item_id": "sku", "rating": "stars", "timestamp": "when"},
        rating_scale=(1, 5),
    )
    ws, source = import_dataset(ImportRequest(reviews=path, config=config), tmp_path / "ws")
    assert source == "table" and ws.stage_info("data")["counts"]["interactions"] == 9
