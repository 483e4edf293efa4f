"""Values the built-in loaders used to accept or crash on: ratings outside the format's scale (Amazon and
Yelp: 1-5), timestamps past the year 9999 (1e20 was an OverflowError), numbers too large for a float,
JSON nested too deep or with too many digits. Each is a bad field naming file, line and field, counted
by --skip-bad-lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from persona4rec.cli import main

T0 = 1_400_000_000


def amazon2014(k: int, **change) -> dict:
    return {
        "reviewerID": f"u{k % 3}",
        "asin": f"I{k // 3}",
        "overall": 4.0,
        "summary": "",
        "reviewText": "ok",
        "unixReviewTime": T0 + k,
        **change,
    }


def amazon2023(k: int, **change) -> dict:
    base = {"user_id": f"u{k % 3}", "parent_asin": f"P{k // 3}", "rating": 4.0, "title": "", "text": "ok"}
    return {**base, "timestamp": (T0 + k) * 1000, **change}


def yelp(k: int, **change) -> dict:
    base = {"review_id": f"r{k}", "user_id": f"u{k % 3}", "business_id": "b1", "stars": 4, "text": "ok"}
    return {**base, "date": "2016-03-09 17:44:55", **change}


FORMATS = {
    # format: (record maker, rating field, time field, a time past 9999 in its unit)
    "amazon2014": (amazon2014, "overall", "unixReviewTime", 1e20),
    "amazon2018": (lambda k, **c: amazon2014(k, verified=True, **c), "overall", "unixReviewTime", 10**30),
    "amazon2023": (amazon2023, "rating", "timestamp", 1e20),
    "yelp": (yelp, "stars", "date", "10000-01-01 00:00:00"),
}


def run(tmp_path: Path, fmt: str, records: list, *extra: str) -> int:
    path = tmp_path / "reviews.json"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    argv = ["data", "import", str(path), "--format", fmt, "--kcore", "0", "--out", str(tmp_path / "ws"), *extra]
    if fmt == "yelp":
        business = tmp_path / "business.json"
        business.write_text(json.dumps({"business_id": "b1", "name": "Pho", "categories": "Restaurants"}) + "\n")
        argv += ["--business", str(business)]
    return main(argv)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("rating", [0, -3, 10**9, 5.5])
def test_a_rating_outside_the_scale_is_a_bad_field(tmp_path, capsys, fmt, rating):
    make, field, _, _ = FORMATS[fmt]
    records = [make(k) for k in range(6)]
    records[3] = make(3, **{field: rating})
    assert run(tmp_path, fmt, records) == 2
    err = capsys.readouterr().err
    assert f"reviews.json, line 4, field '{field}': rating {rating:g} is outside the 1–5 scale" in err
    assert not (tmp_path / "ws").exists()
    assert run(tmp_path, fmt, records, "--skip-bad-lines") == 0
    report = json.loads((tmp_path / "ws" / "data" / "import_report.json").read_text())
    assert report["files"]["reviews"]["bad_lines"]["by_reason"] == {"bad_value": 1}
    assert report["rating_scale"] == [1.0, 5.0] and report["counts_before"]["interactions"] == 5


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_the_ends_of_the_scale_are_inside(tmp_path, fmt):
    make, field, _, _ = FORMATS[fmt]
    assert run(tmp_path, fmt, [make(k, **{field: 1 + 4 * (k % 2)}) for k in range(4)]) == 0


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_time_past_the_year_9999_is_a_bad_field_not_an_overflow(tmp_path, capsys, fmt):
    make, _, field, huge = FORMATS[fmt]
    records = [make(k) for k in range(4)]
    records[1] = make(1, **{field: huge})
    assert run(tmp_path, fmt, records) == 2
    err = capsys.readouterr().err
    assert f"reviews.json, line 2, field '{field}'" in err and ("past the year 9999" in err or "expected a date" in err)


@pytest.mark.parametrize(
    "line, words",
    [
        ('{"reviewerID": "u", "asin": "A", "overall": 1' + "0" * 400 + "}", "expected a finite number"),
        ('{"reviewerID": "u", "asin": "A", "overall": ' + "9" * 5000 + "}", "not a JSON object"),
        ('{"reviewerID": ' + "[" * 100_000 + "}", "not a JSON object"),
        ('{"reviewerID": "u", "asin": "A", "overall": NaN}', "expected a finite number"),
    ],
    ids=["int-past-float", "too-many-digits", "nested-too-deep", "nan"],
)
def test_numbers_and_nesting_json_cannot_hold(tmp_path, capsys, line, words):
    records = [amazon2014(k) for k in range(4)]
    records[2] = line
    assert run(tmp_path, "amazon2014", records) == 2
    err = capsys.readouterr().err
    assert "reviews.json, line 3" in err and words in err, err
