"""Each loader on small files written here in its documented schema, awkward cases included."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from persona4rec.data.formats import ImportConfig, ImportRequest, detect_format, load_dataset
from persona4rec.data.importer import build_workspace, load_workspace_tables, prepare_tables

DAY = 86_400


def write_lines(path: Path, lines: list[str], *, gz: bool = False) -> Path:
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def jsonl(path: Path, records: list[dict], *, gz: bool = False) -> Path:
    return write_lines(path, [json.dumps(r) for r in records], gz=gz)


def amazon2014_review(user: str, item: str, t: int, rating: float = 5.0, text: str = "great", **extra) -> dict:
    return {
        "reviewerID": user,
        "asin": item,
        "reviewerName": "x",
        "helpful": [0, 0],
        "reviewText": text,
        "overall": rating,
        "summary": f"title {item}",
        "unixReviewTime": t,
        "reviewTime": "01 1, 2014",
        **extra,
    }


def load(reviews: Path, meta: Path | None = None, **config) -> object:
    return load_dataset(
        ImportRequest(reviews=reviews, meta=meta, business=config.pop("business", None), config=ImportConfig(**config))
    )


# -- Amazon 2014 ---------------------------------------------------------------------------------------
@pytest.fixture()
def amazon2014_files(tmp_path: Path) -> tuple[Path, Path]:
    reviews = [
        amazon2014_review("u1", "A", 100 * DAY, text="I love it &amp; <b>so</b> does my band"),
        amazon2014_review("u1", "B", 101 * DAY, rating=2.0, text=""),
        amazon2014_review("u2", "A", 102 * DAY),
        amazon2014_review("u2", "C", 103 * DAY, text="ﬁne tuning　works"),  # NFKC: ligature, ideographic space
        amazon2014_review("u2", "A", 104 * DAY, text="second review of A, the later one"),
    ]
    reviews[1]["summary"] = ""
    meta_lines = [
        # the original 2014 metadata: Python literals, single quotes, categories a list of paths
        repr(
            {
                "asin": "A",
                "title": "Pop filter",
                "description": "Double screen.",
                "brand": "Nady",
                "categories": [["Musical Instruments", "Microphones"], ["Musical Instruments", "Accessories"]],
                "salesRank": {"Musical Instruments": 12},
                "price": 9.99,
            }
        ),
        json.dumps({"asin": "B", "title": "Cable", "categories": [["Musical Instruments", "Cables"]]}),
        repr({"asin": "Z", "title": "never reviewed"}),
    ]  # C has no metadata record at all
    return (jsonl(tmp_path / "reviews.json.gz", reviews, gz=True), write_lines(tmp_path / "meta.json", meta_lines))


def test_amazon2014_reads_reviews_and_literal_metadata(amazon2014_files):
    reviews, meta = amazon2014_files
    assert detect_format(reviews) == "amazon2014"
    ds = load(reviews, meta, kcore=0)
    assert ds.source == "amazon2014"
    assert list(ds.reviews["timestamp"][:2]) == [100 * DAY * 1000, 101 * DAY * 1000]  # seconds -> ms
    items = ds.items.set_index("item_id")
    assert set(items.index) == {"A", "B"}  # Z has no review: not kept
    assert items.loc["A", "categories"] == [
        "Musical Instruments",
        "Microphones",
        "Musical Instruments",
        "Accessories",
    ]  # flattened; de-duplicated by cleaning
    assert items.loc["A", "attributes"] == {"brand": "Nady", "price": 9.99, "sales_rank": {"Musical Instruments": 12}}
    assert ds.report["files"]["items"]["items_without_reviews"] == 1


def test_cleaning_dedup_textless_unicode_and_missing_metadata(amazon2014_files):
    reviews, meta = amazon2014_files
    ds = load(reviews, meta, kcore=0)
    out, items, split, report = prepare_tables(ds.reviews, ds.items, kcore=0)
    assert len(out) == 4 and report["cleaning"]["reviews"]["duplicate_pairs_removed"] == 1
    by_pair = out.set_index(["user_id", "item_id"])
    assert by_pair.loc[("u2", "A"), "text"] == "second review of A, the later one"  # the latest kept
    assert by_pair.loc[("u1", "A"), "text"] == "I love it & so does my band"
    assert by_pair.loc[("u2", "C"), "text"] == "fine tuning works"
    assert bool(by_pair.loc[("u1", "B"), "textless"]) and report["cleaning"]["reviews"]["textless_reviews"] == 1
    items = items.set_index("item_id")
    assert items.loc["A", "categories"] == ["Musical Instruments", "Microphones", "Accessories"]
    assert items.loc["C", "title"] == "" and items.loc["C", "categories"] == []  # no metadata: empty, kept
    assert report["items_without_metadata"] == 1


def test_duplicate_tie_goes_to_the_later_line(tmp_path):
    reviews = jsonl(
        tmp_path / "r.json",
        [
            amazon2014_review("u", "A", DAY, text="first"),
            amazon2014_review("u", "A", DAY, text="second"),
            amazon2014_review("u", "A", 0, text="older, later in file"),
        ],
    )
    out, *_ = prepare_tables(load(reviews, kcore=0).reviews, None, kcore=0)
    assert out["text"].tolist() == ["second"]


# -- Amazon 2018 ---------------------------------------------------------------------------------------
def test_amazon2018_markup_titles_list_descriptions(tmp_path):
    jsonl(
        tmp_path / "r.json",
        [
            {**amazon2014_review("u1", "A", DAY), "vote": "1,203", "verified": True, "style": {"Format:": " CD"}},
            {**amazon2014_review("u1", "B", 2 * DAY), "image": ["http://x/1.jpg"]},
            {**amazon2014_review("u1", "C", 3 * DAY), "verified": False},
            {**amazon2014_review("u1", "D", 4 * DAY)},
        ],
    )
    del_text = json.loads((tmp_path / "r.json").read_text().splitlines()[3])
    del del_text["reviewText"]  # 2018 reviews may lack reviewText
    lines = (tmp_path / "r.json").read_text().splitlines()
    lines[3] = json.dumps(del_text)
    write_lines(tmp_path / "r.json", lines)
    meta = jsonl(
        tmp_path / "m.json",
        [
            {
                "asin": "A",
                "title": '<span class="a-size-large">  </span>',
                "brand": "Fender",
                "description": ["<p>Solid alder body.</p>", "Maple neck &amp; rosewood board."],
                "category": ["Musical Instruments", "Guitars"],
                "feature": ["22 frets"],
                "details": {"\n Weight: \n": "3 kg"},
            },
            {"asin": "B", "title": "<div></div>", "brand": "Boss", "description": [], "category": []},
            {"asin": "C", "title": "<br/>", "description": "", "details": {"Label:": "<i>Blue Note</i>"}},
            {"asin": "D", "title": "Plain &amp; simple <b>Strings</b>", "category": ["Strings"]},
        ],
    )
    assert detect_format(tmp_path / "r.json") == "amazon2018"
    ds = load(tmp_path / "r.json", meta, kcore=0)
    _, items, _, report = prepare_tables(ds.reviews, ds.items, kcore=0)
    items = items.set_index("item_id")
    assert items.loc["A", "title"] == "Solid alder body."
    assert items.loc["A", "description"] == "Solid alder body. Maple neck & rosewood board."
    assert items.loc["A", "attributes"]["details"] == {"Weight": "3 kg"}
    assert items.loc["B", "title"] == "Boss"
    assert items.loc["C", "title"] == "Label: Blue Note"
    assert items.loc["D", "title"] == "Plain & simple Strings"
    for title in items["title"]:
        assert "<" not in title and ">" not in title and title
    assert report["cleaning"]["items"]["markup_only_titles_replaced"] == {"brand": 1, "description": 1, "details": 1}
    assert ds.reviews["text"].tolist()[3] == ""


# -- Amazon 2023 ---------------------------------------------------------------------------------------
def test_amazon2023_books(tmp_path):
    reviews = jsonl(
        tmp_path / "Books.jsonl",
        [
            {
                "rating": 5.0,
                "title": "Gripping",
                "text": "Could not put it down",
                "images": [],
                "asin": "X1",
                "parent_asin": "P1",
                "user_id": "U1",
                "timestamp": 1588687728923,
                "helpful_vote": 2,
                "verified_purchase": True,
            },
            {
                "rating": 3.0,
                "title": "",
                "text": "",
                "images": [],
                "asin": "X2",
                "parent_asin": "P2",
                "user_id": "U1",
                "timestamp": 1588687728924,
                "helpful_vote": 0,
                "verified_purchase": False,
            },
        ],
        gz=True,
    )
    meta = jsonl(
        tmp_path / "meta_Books.jsonl",
        [
            {
                "main_category": "Books",
                "title": "The Novel",
                "average_rating": 4.5,
                "rating_number": 10,
                "features": ["Hardcover"],
                "description": ["A story", "of two cities."],
                "price": None,
                "store": "Penguin",
                "categories": ["Books", "Literature & Fiction"],
                "details": {"Pages": "300"},
                "parent_asin": "P1",
                "author": {"name": "Jane Doe", "about": ["writer"], "avatar": "x"},
            },
            {"title": "Other", "parent_asin": "P2", "author": "John Roe", "categories": []},
        ],
    )
    assert detect_format(reviews) == "amazon2023"
    ds = load(reviews, meta, kcore=0)
    assert ds.reviews["timestamp"].tolist() == [1588687728923, 1588687728924]  # already ms
    assert ds.reviews["item_id"].tolist() == ["P1", "P2"]
    items = ds.items.set_index("item_id")
    assert items.loc["P1", "description"] == "A story\nof two cities."
    assert items.loc["P1", "attributes"]["author"] == "Jane Doe"
    assert items.loc["P2", "attributes"] == {"author": "John Roe"}


# -- Yelp ----------------------------------------------------------------------------------------------
def test_yelp_city_and_category_filter(tmp_path):
    business = jsonl(
        tmp_path / "business.json",
        [
            {
                "business_id": "b1",
                "name": "Pho &amp; Co",
                "city": "Philadelphia",
                "state": "PA",
                "stars": 4.5,
                "review_count": 3,
                "categories": "Vietnamese, Restaurants",
                "attributes": {"WiFi": "free"},
                "hours": None,
            },
            {"business_id": "b2", "name": "Nail bar", "city": "Philadelphia", "categories": "Beauty & Spas"},
            {"business_id": "b3", "name": "Pizza", "city": "Tampa", "categories": "Restaurants, Pizza"},
            {"business_id": "b4", "name": "Closed", "city": "philadelphia ", "categories": None},
        ],
    )
    reviews = jsonl(
        tmp_path / "review.json",
        [
            {
                "review_id": "r1",
                "user_id": "u1",
                "business_id": "b1",
                "stars": 5,
                "useful": 0,
                "text": "Great pho",
                "date": "2016-03-09 17:44:55",
            },
            {
                "review_id": "r2",
                "user_id": "u1",
                "business_id": "b2",
                "stars": 1,
                "text": "meh",
                "date": "2016-03-10 10:00:00",
            },
            {
                "review_id": "r3",
                "user_id": "u2",
                "business_id": "b3",
                "stars": 4,
                "text": "ok",
                "date": "2017-01-01 00:00:00",
            },
        ],
    )
    assert detect_format(reviews) == "yelp"
    ds = load(reviews, business=business, city="Philadelphia", category="restaurants", kcore=0)
    assert ds.reviews["item_id"].tolist() == ["b1"]
    assert ds.reviews["timestamp"].tolist() == [1457545495000]
    assert ds.report["files"]["reviews"]["filtered_out"] == 2
    assert ds.report["files"]["items"]["outside_filter"] == 3
    item = ds.items.iloc[0]
    assert item["categories"] == ["Vietnamese", "Restaurants"] and item["attributes"]["city"] == "Philadelphia"
    _, items, _, _ = prepare_tables(ds.reviews, ds.items, kcore=0)
    assert items.loc[0, "title"] == "Pho & Co"


def test_yelp_needs_business_file(tmp_path):
    from persona4rec.errors import InputError

    reviews = jsonl(
        tmp_path / "review.json",
        [{"review_id": "r", "user_id": "u", "business_id": "b", "stars": 5, "text": "", "date": "2016-03-09 17:44:55"}],
    )
    with pytest.raises(InputError, match="business"):
        load(reviews)


# -- the workspace round trip ---------------------------------------------------------------------------
def test_build_workspace_writes_tables_manifest_and_extra_tables(amazon2014_files, tmp_path):
    import pandas as pd

    reviews, meta = amazon2014_files
    ds = load(reviews, meta, kcore=0)
    extra = {"planted_users": pd.DataFrame({"user_id": ["u1"], "reason_id": ["r"], "weight": [1.0]})}
    ws = build_workspace(
        tmp_path / "ws",
        ds.reviews,
        ds.items,
        kcore=0,
        report=ds.report,
        inputs=ds.inputs,
        source=ds.source,
        extra_tables=extra,
    )
    revs, items, split = load_workspace_tables(ws)
    assert str(revs["user_id"].dtype) == "string" and str(revs["timestamp"].dtype) == "int64"
    assert revs["textless"].dtype == bool and items.loc[0, "attributes"]["brand"] == "Nady"
    assert len(split) == len(revs) == 4 and set(items["item_id"]) == set(revs["item_id"])
    assert pd.read_parquet(ws.data_dir / "planted_users.parquet").equals(extra["planted_users"])
    manifest = ws.manifest()
    assert [Path(i["path"]).name for i in manifest["inputs"]] == ["reviews.json.gz", "meta.json"]
    assert all(len(i["sha256"]) == 64 and i["bytes"] > 0 for i in manifest["inputs"])
    assert manifest["counts"]["before"] == {"interactions": 5, "users": 2, "items": 3}
    assert manifest["stages"]["data"]["status"] == "done" and manifest["versions"]["pandas"]
    report = json.loads((ws.data_dir / "import_report.json").read_text())
    assert report["format"] == "amazon2014" and report["split"]["users_train_only"] == 2
    assert set(split["split"]) == {"train"}  # two interactions per user: too few to hold out valid+test


# -- cleaning of single strings ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, clean",
    [
        ("<p>Great&nbsp;tone</p><br/>Solid build", "Great tone Solid build"),
        ("<script>var aPageStart = 1;</script>Real text<style>.a{}</style>", "Real text"),
        ("&lt;b&gt;escaped markup&lt;/b&gt; &amp; more", "escaped markup & more"),
        ("if a < b and c > d, 3<5", "if a < b and c > d, 3<5"),  # prose comparisons are not tags
        # a C1 control that no code page gives a meaning (\x85 would be Windows-1252's '…': mojibake, repaired)
        ("ﬁne\u00a0tuning\u3000works\x00\x9d now\r\n", "fine tuning works now"),
        ("<!-- hidden -->shown", "shown"),
    ],
)
def test_text_cleaner(raw, clean):
    from persona4rec.data.cleaning import TextCleaner

    cleaner = TextCleaner()
    assert cleaner.clean(raw, "f") == clean
