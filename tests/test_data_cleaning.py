"""Cleaning that survives real metadata: a tag cut off at the end of a field is markup (and a title that
was only that is replaced, and counted), mojibake is repaired, lone surrogates never reach Parquet, and
the offline stages use the same cleaner, which leaves prose such as "size < 10 and > 5" alone."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from persona4rec.cli import main
from persona4rec.data.cleaning import TextCleaner, plain_text, strip_markup
from persona4rec.data.formats import ImportConfig, ImportRequest, load_dataset
from persona4rec.data.importer import load_workspace_tables, prepare_tables
from persona4rec.offline import text as offline_text

DAY = 86_400


@pytest.mark.parametrize(
    "raw, clean",
    [
        ('<span class="a-size-medium a-color-secondary"', ""),  # cut off inside the tag: all markup
        ('Solid Guitar Strap <span class="a-size-medium', "Solid Guitar Strap"),
        ("Strings <!-- a comment never closed", "Strings"),
        ('<a href="x>y" title', ""),  # '>' inside a quoted attribute does not close the tag
        ("size < 10 and > 5", "size < 10 and > 5"),
        ("I <3 this, 3<5 and a</ b", "I <3 this, 3<5 and a</ b"),
        ("&lt;b&gt;escaped&lt;/b&gt; size &lt; 10", "escaped size < 10"),
        ("CafÃ© Ã©tÃ© &amp; â€œquotesâ€\x9d", "Café été & “quotes”"),  # UTF-8 read as Windows-1252
        ("ok\x96ok", "ok–ok"),
    ],
)
def test_plain_text(raw, clean):
    assert plain_text(raw) == clean


def test_the_cleaner_counts_what_it_repaired():
    cleaner = TextCleaner()
    assert cleaner.clean("CafÃ©", "item_title") == "Café"
    assert cleaner.clean('<span class="a', "item_title") == ""
    report = cleaner.report()
    assert report["mojibake_repaired"] == {"item_title": 1}
    assert report["html_stripped"] == {"item_title": 1}


def review(user: str, item: str, day: int, text: str = "fine") -> dict:
    return {
        "reviewerID": user,
        "asin": item,
        "overall": 4.0,
        "summary": "",
        "reviewText": text,
        "unixReviewTime": day * DAY,
    }


def test_cut_off_titles_are_replaced_and_counted(tmp_path, capsys):
    reviews = tmp_path / "r.json"
    reviews.write_text("".join(json.dumps(review("u", i, d)) + "\n" for d, i in enumerate("ABCD")))
    meta = tmp_path / "m.json"
    records = [
        {"asin": "A", "title": '<span class="a-size-medium a-color-secondary"', "description": ["Warm tone. Cheap."]},
        {"asin": "B", "title": '<span class="a-size-medium a-color-secondary"', "brand": "Fender"},
        {"asin": "C", "title": '<div class="x"', "details": {"Label:": "Blue Note"}},
        {"asin": "D", "title": 'CafÃ© Racer <span class="a-size'},
    ]
    meta.write_text("".join(json.dumps(r) + "\n" for r in records))
    ds = load_dataset(ImportRequest(reviews=reviews, meta=meta, config=ImportConfig(format="amazon2018", kcore=0)))
    _, items, _, report = prepare_tables(ds.reviews, ds.items, kcore=0)
    titles = dict(zip(items["item_id"], items["title"]))
    assert titles == {"A": "Warm tone.", "B": "Fender", "C": "Label: Blue Note", "D": "Café Racer"}
    cleaning = report["cleaning"]["items"]
    assert cleaning["markup_only_titles_replaced"] == {"brand": 1, "description": 1, "details": 1}
    assert cleaning["mojibake_repaired"] == {"item_title": 1}
    argv = ["data", "import", str(reviews), "--meta", str(meta), "--format", "amazon2018", "--kcore", "0"]
    rc = main([*argv, "--out", str(tmp_path / "ws")])
    assert rc == 0
    capsys.readouterr()
    assert main(["data", "stats", str(tmp_path / "ws")]) == 0
    text = capsys.readouterr().out
    assert "3 markup-only titles replaced (from brand 1, description 1, details 1)" in text
    assert "mojibake     repaired: item_title 1" in text


def test_lone_surrogates_never_reach_parquet(tmp_path, capsys):
    """JSON escapes can spell a lone surrogate, which no encoding can write (Parquet failed on it): it is
    read as U+FFFD, in ids too, and the line counted; a surrogate pair in Python-literal metadata is joined."""
    lines = [
        json.dumps(review("u\ud800" if i == "B" else "u", i, d, text="broken \ud800 text" if i == "A" else "ok"))
        for d, i in enumerate("AB")
    ]
    (tmp_path / "r.json").write_text("\n".join(lines) + "\n")
    assert "\\ud800" in lines[0]  # json.dumps escapes it: the file itself is valid UTF-8
    (tmp_path / "m.json").write_text(repr({"asin": "A", "title": "Strat \ud83c\udfb8", "brand": "X\udfff"}) + "\n")
    argv = ["data", "import", str(tmp_path / "r.json"), "--meta", str(tmp_path / "m.json"), "--kcore", "0"]
    assert main([*argv, "--out", str(tmp_path / "ws")]) == 0, capsys.readouterr().err
    reviews, items, _ = load_workspace_tables(tmp_path / "ws")
    assert reviews.set_index("item_id").loc["A", "text"] == "broken \ufffd text"
    assert reviews.set_index("item_id").loc["B", "user_id"] == "u\ufffd"
    item = items.set_index("item_id").loc["A"]
    assert item["title"] == "Strat 🎸" and item["attributes"] == {"brand": "X\ufffd"}
    report = json.loads((tmp_path / "ws" / "data" / "import_report.json").read_text())
    assert report["files"]["reviews"]["bad_lines"]["surrogate_lines_repaired"] == 2
    assert report["files"]["items"]["bad_lines"]["surrogate_lines_repaired"] == 1
    capsys.readouterr()
    assert main(["data", "stats", str(tmp_path / "ws")]) == 0
    assert "lines repaired (pairs joined, lone ones now U+FFFD): reviews 2, items 1" in capsys.readouterr().out


# -- one cleaner: the offline stages use the data layer's ------------------------------------------------------
def test_offline_text_uses_the_data_cleaner():
    assert offline_text.clean("size < 10 and > 5") == "size < 10 and > 5"  # the old regex deleted "< 10 and >"
    assert offline_text.clean("<p>Fine &amp; <b>loud</b></p>\n x") == "Fine & loud x"
    assert offline_text.clean('Strap <span class="a') == "Strap"
    assert offline_text.sentences("Fits size < 10 and > 5 easily. Really good value!") == [
        "Fits size < 10 and > 5 easily.",
        "Really good value!",
    ]
    # a tag ends a sentence, as a line break does
    assert offline_text.sentences("<li>Great tone here</li><li>Solid build quality</li>") == [
        "Great tone here",
        "Solid build quality",
    ]
    assert strip_markup("a<br>b", separator="\n") == "a\nb"


MI = "amazon2014-musical-instruments-5core/reviews_Musical_Instruments_5.jsonl.gz"


@pytest.mark.shared_data
def test_text_the_importer_cleaned_comes_back_unchanged(shared_data):
    """The offline stages clean again what the importer cleaned: on every real review that is a no-op."""
    with gzip.open(Path(shared_data) / MI, "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["reviewText"] for line in fh]
    cleaner = TextCleaner()
    cleaned = [cleaner.clean(t, "review_text") for t in texts]
    assert sum(cleaner.html.values()) > 400  # the file does hold markup and entities
    changed = [c for c in cleaned if offline_text.clean(c) != c]
    assert changed == []
