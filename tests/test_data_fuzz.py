"""Loaders that never crash: hypothesis feeds every import format malformed files (truncated lines, wrong
types, missing fields, huge and negative numbers, invalid UTF-8 and lone surrogates, empty files, NUL
bytes, cut-off gzip and Parquet) and each one must end as a clean InputError naming the file (and the line
or Parquet row, for a bad record), with nothing left at --out, or as a valid workspace. Any other exception
fails the test with the input hypothesis shrank it to.

The import runs in-process (`importer.import_dataset`, what `data import` calls), in a fresh temporary
folder per input. The counts (inputs, InputErrors, workspaces) are written to the terminal at the end of
the module and to `$PERSONA4REC_FUZZ_COUNTS` (a JSON file) when that variable is set.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from persona4rec.data.fields import MAX_TIME_MS, MIN_TIME_MS
from persona4rec.data.formats import ImportConfig, ImportRequest
from persona4rec.data.importer import import_dataset, load_workspace_tables
from persona4rec.data.reading import BadRecord
from persona4rec.errors import InputError
from persona4rec.workspace import Workspace

pytestmark = pytest.mark.slow  # about 30 s of one core for the 1,035 imports

EXAMPLES_PER_LOADER = 115  # x 9 loaders: >= 1,000 inputs a run
COUNTS: Counter[tuple[str, str]] = Counter()  # (loader, outcome)
BY_MALFORMATION: Counter[tuple[str, str]] = Counter()  # (malformation, outcome)

# -- values ----------------------------------------------------------------------------------------------------
MARKUP = ["<b>", "</p>", '<span class="a-size-medium a-color-secondary"', "&amp;", "&lt;i&gt;", "<!--", "Ã©", " < 5"]
SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
TEXT = st.lists(st.one_of(st.text(max_size=8), st.sampled_from(MARKUP), SURROGATE), max_size=4).map("".join)
# Boundary values come from lists (each list twice: half the draws), the rest from hypothesis' own numbers.
_HUGE = st.sampled_from([1e20, 2**63, 2**64, 10**400, 1e308, float("inf"), float("nan"), "1e20", "1e400", "9" * 30])
HUGE = st.one_of(_HUGE, _HUGE, st.integers(min_value=10**12, max_value=10**30), st.floats(min_value=1e12))
_NEGATIVE = st.sampled_from([-1, -3, -1e20, -5e-324, -(10**400), "-1", float("-inf")])
NEGATIVE = st.one_of(_NEGATIVE, _NEGATIVE, st.integers(max_value=-1), st.floats(max_value=-1e-300))
OUT_OF_SCALE = st.sampled_from([0, 6, 10**9, 0.5, 5.5, 1e-9, "0", "6", 0.0, 5.000001])
WRONG_TYPE = st.one_of(
    st.none(),
    st.booleans(),
    TEXT,
    st.sampled_from(["", " ", "five", "2014-13-45", "2016-03-09 17:44:55", "9999-12-31T23:59:59-14:00", "\x00"]),
    st.lists(st.one_of(st.integers(), TEXT), max_size=3),
    st.dictionaries(TEXT, st.one_of(st.integers(), TEXT), max_size=2),
    st.floats(allow_nan=True, allow_infinity=True),
)
ANY_VALUE = st.one_of(HUGE, NEGATIVE, OUT_OF_SCALE, WRONG_TYPE, st.integers())
USERS, ITEMS = ["u1", "u2", "u3"], ["i1", "i2", "i3", "i4"]
T0 = 1_400_000_000

# The fields the loaders read as times, ratings and ids (the rest are text).
TIMES = {"unixReviewTime", "timestamp", "date", "when"}
RATINGS = {"overall", "rating", "stars"}
IDS = {"reviewerID", "asin", "user_id", "parent_asin", "business_id", "customer", "sku", "item_id"}

# What goes wrong, as the issue lists it; each input gets one or two of them.
IN_RECORDS = [
    "wrong type",
    "missing field",
    "huge number",
    "negative number",
    "rating out of scale",
    "lone surrogate",
    "any field, any value",
]
IN_BYTES = ["truncated line", "invalid UTF-8", "NUL byte", "line lost or repeated", "empty file", "cut-off gzip"]
MALFORMATIONS = IN_RECORDS + IN_BYTES
BAD_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xe2\x82", b"\x80", b"\xf4\x90\x80\x80"]


def _words(draw) -> str:
    return draw(st.sampled_from(["great tone", "<p>solid</p> build", "CafÃ© style", "ok", "", "size < 10 and > 5"]))


# -- valid records per loader (then broken by the mutations below) ----------------------------------------------
def amazon2014_review(draw, k):
    return {
        "reviewerID": draw(st.sampled_from(USERS)),
        "asin": draw(st.sampled_from(ITEMS)),
        "overall": float(draw(st.integers(1, 5))),
        "summary": _words(draw),
        "reviewText": _words(draw),
        "unixReviewTime": T0 + k * 86_400,
    }


def amazon2014_item(draw, item):
    return {
        "asin": item,
        "title": draw(st.sampled_from(["Pop filter", '<span class="a-size-medium', "Cable &amp; jack"])),
        "description": _words(draw),
        "categories": [["Musical Instruments", draw(st.sampled_from(["Cables", "Mics"]))]],
        "brand": "Nady",
        "price": 9.99,
        "salesRank": {"Musical Instruments": 12},
    }


def amazon2018_review(draw, k):
    return {**amazon2014_review(draw, k), "vote": "1,203", "verified": True, "style": {"Size:": " L"}, "image": []}


def amazon2018_item(draw, item):
    return {
        "asin": item,
        "title": draw(st.sampled_from(["Strings", "<div></div>", "Amp"])),
        "brand": "Boss",
        "category": ["Musical Instruments"],
        "description": [_words(draw)],
        "feature": ["22 frets"],
        "details": {"Weight:": "3 kg"},
        "main_cat": "Music",
        "price": "$5",
        "rank": "12 in Music",
        "date": "2014",
    }


def amazon2023_review(draw, k):
    return {
        "user_id": draw(st.sampled_from(USERS)),
        "parent_asin": draw(st.sampled_from(ITEMS)),
        "asin": "x",
        "rating": float(draw(st.integers(1, 5))),
        "title": _words(draw),
        "text": _words(draw),
        "timestamp": (T0 + k) * 1000,
        "helpful_vote": 1,
        "verified_purchase": False,
    }


def amazon2023_item(draw, item):
    return {
        "parent_asin": item,
        "title": "The Novel",
        "author": draw(st.sampled_from(["Jane Doe", {"name": "John Roe"}])),
        "categories": ["Books"],
        "description": [_words(draw)],
        "features": ["Hardcover"],
        "main_category": "Books",
        "store": "Penguin",
        "details": {"Pages": "300"},
        "average_rating": 4.5,
        "rating_number": 10,
        "price": None,
    }


def yelp_review(draw, k):
    return {
        "review_id": f"r{k}",
        "user_id": draw(st.sampled_from(USERS)),
        "business_id": draw(st.sampled_from(ITEMS)),
        "stars": draw(st.integers(1, 5)),
        "text": _words(draw),
        "date": f"2016-03-{1 + k % 28:02d} 17:44:55",
    }


def yelp_business(draw, item):
    return {
        "business_id": item,
        "name": draw(st.sampled_from(["Pho &amp; Co", "Pizza"])),
        "city": "Philadelphia",
        "state": "PA",
        "stars": 4.5,
        "review_count": 3,
        "categories": "Restaurants, Vietnamese",
        "attributes": {"WiFi": "free"},
        "hours": None,
    }


def table_review(draw, k, unit="s"):
    when = T0 + k
    value = {"s": when, "ms": when * 1000, "iso": f"2014-05-13T16:{k % 60:02d}:20Z"}[unit]
    return {
        "customer": draw(st.sampled_from(USERS)),
        "sku": draw(st.sampled_from(ITEMS)),
        "stars": draw(st.integers(1, 5)),
        "when": value,
        "headline": _words(draw),
        "body": _words(draw),
        "shelf": "aisle",
    }


def table_item(draw, item):
    return {"sku": item, "name": _words(draw) or "Amp", "blurb": _words(draw), "cats": "Audio|Amps", "maker": "Acme"}


MAP = "user_id=customer,item_id=sku,rating=stars,timestamp=when,title=headline,text=body"
META_MAP = "item_id=sku,title=name,description=blurb,categories=cats,brand=maker"
RECBOLE_INTER = {"user_id": "token", "item_id": "token", "rating": "float", "timestamp": "float", "review": "token_seq"}
RECBOLE_ITEM = {"item_id": "token", "movie_title": "token_seq", "genre": "token_seq", "year": "token"}


def recbole_review(draw, k):
    return {
        "user_id": draw(st.sampled_from(USERS)),
        "item_id": draw(st.sampled_from(ITEMS)),
        "rating": draw(st.integers(1, 5)),
        "timestamp": T0 + k,
        "review": _words(draw),
    }


def recbole_item(draw, item):
    return {"item_id": item, "movie_title": "Toy Story", "genre": "Animation Comedy", "year": "1995"}


# -- writing files ------------------------------------------------------------------------------------------------
def jsonl_lines(records) -> list[bytes]:
    return [json.dumps(r).encode() for r in records]  # ensure_ascii: a lone surrogate is written as \ud800


def literal_lines(records) -> list[bytes]:
    return [repr(r).encode("utf-8", "surrogatepass") for r in records]


def delimited_lines(records, dialect: str, header: list[str] | None = None) -> list[bytes]:
    columns = list(dict.fromkeys(k for r in records for k in r)) if records else ["customer"]
    text = io.StringIO()
    writer = csv.writer(text, dialect=dialect, lineterminator="\n")
    writer.writerow(header or columns)
    for r in records:
        writer.writerow(["" if r.get(c) is None else str(r.get(c)) for c in columns])
    # A lone surrogate cannot be UTF-8: written as its CESU bytes, it is invalid UTF-8 in the file.
    return text.getvalue().encode("utf-8", "surrogatepass").splitlines()


def parquet_bytes(records) -> bytes:
    """Records as Parquet; a column whose values are not all of one plain type is written as text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = list(dict.fromkeys(k for r in records for k in r))
    data = {}
    for c in columns:
        values = [r.get(c) for r in records]
        kinds = {type(v) for v in values if v is not None}
        plain = len(kinds) <= 1 and kinds <= {int, float, str, bool, bytes}
        if kinds == {int} and not all(-(2**63) <= v < 2**63 for v in values if v is not None):
            plain = False
        if kinds == {str} and any(0xD800 <= ord(ch) <= 0xDFFF for v in values if v for ch in v):
            values = [v.encode("utf-16", "surrogatepass").decode("utf-16", "replace") if v else v for v in values]
        data[c] = values if plain else [None if v is None else repr(v) for v in values]
    buffer = io.BytesIO()
    pq.write_table(pa.table(data) if columns else pa.table({"customer": pa.array([], pa.string())}), buffer)
    return buffer.getvalue()


# -- breaking records ---------------------------------------------------------------------------------------------
def break_record(draw, records: list[dict], malformation: str) -> None:
    """Apply one record-level malformation to one of `records`, in place."""
    if not records:
        return
    record = records[draw(st.integers(0, len(records) - 1))]
    fields = sorted(record)
    typed = [f for f in fields if f in TIMES | RATINGS | IDS] or fields
    numeric = [f for f in fields if f in TIMES | RATINGS] or typed
    if malformation == "wrong type":
        record[draw(st.sampled_from(typed))] = draw(WRONG_TYPE)
    elif malformation == "missing field":
        del record[draw(st.sampled_from(typed))]
    elif malformation == "huge number":
        record[draw(st.sampled_from(numeric))] = draw(HUGE)
    elif malformation == "negative number":
        record[draw(st.sampled_from(numeric))] = draw(NEGATIVE)
    elif malformation == "rating out of scale":
        rated = [f for f in fields if f in RATINGS] or numeric
        record[draw(st.sampled_from(rated))] = draw(OUT_OF_SCALE)
    elif malformation == "lone surrogate":
        field = draw(st.sampled_from([f for f in fields if isinstance(record[f], str)] or fields))
        text = str(record[field])
        at = draw(st.integers(0, len(text)))
        record[field] = text[:at] + draw(SURROGATE) + text[at:]
    else:
        record[draw(st.sampled_from([*fields, "extra"]))] = draw(ANY_VALUE)


def break_lines(draw, lines: list[bytes], malformation: str) -> list[bytes] | bytes:
    """Apply one byte-level malformation: the file's lines, or its whole bytes for the last two kinds."""
    lines = list(lines)
    if malformation == "empty file":
        return draw(st.sampled_from([b"", b"\n", b" \n\n"]))
    if malformation == "cut-off gzip":
        packed = gzip.compress(b"\n".join(lines) + b"\n")
        return packed[: draw(st.integers(0, len(packed) - 1))]
    if not lines:
        return lines
    i = draw(st.integers(0, len(lines) - 1))
    if malformation == "truncated line":
        lines[i] = lines[i][: draw(st.integers(0, max(0, len(lines[i]) - 1)))]
    elif malformation == "line lost or repeated":
        if draw(st.booleans()):
            del lines[i]
        else:
            lines.insert(i, lines[i])
    else:
        at = draw(st.integers(0, len(lines[i])))
        insert = b"\x00" if malformation == "NUL byte" else draw(st.sampled_from(BAD_UTF8))
        lines[i] = lines[i][:at] + insert + lines[i][at:]
    return lines


@st.composite
def malformed_file(draw, make, write, malformations: list[str], *, parquet: bool = False, n_min: int = 1):
    """1-8 valid records from `make`, written by `write` (records -> lines), with `malformations` applied."""
    records = [make(draw, k) for k in range(draw(st.integers(n_min, 8)))]
    for malformation in malformations:
        if malformation in IN_RECORDS:
            for _ in range(draw(st.integers(1, 2))):
                break_record(draw, records, malformation)
    if parquet:
        return draw(parquet_file(records, [m for m in malformations if m in IN_BYTES]))
    data: list[bytes] | bytes = write(records)
    for malformation in malformations:
        if malformation in IN_BYTES and not isinstance(data, bytes):
            data = break_lines(draw, data, malformation)
    if isinstance(data, bytes):
        return data
    joined = b"\n".join(data) + (b"\n" if data and draw(st.booleans()) else b"")
    return gzip.compress(joined) if draw(st.integers(0, 3)) == 0 else joined  # gzip a quarter of the time


@st.composite
def parquet_file(draw, records: list[dict], malformations: list[str]) -> bytes:
    """Parquet has no lines: a cut-off or emptied file, invalid UTF-8 in a (binary) value, a lost row."""
    for malformation in malformations:
        if malformation == "line lost or repeated" and records:
            del records[draw(st.integers(0, len(records) - 1))]
        elif malformation in ("invalid UTF-8", "NUL byte") and records:
            record = records[draw(st.integers(0, len(records) - 1))]
            field = draw(st.sampled_from(sorted(record)))
            bad = b"\x00" if malformation == "NUL byte" else draw(st.sampled_from(BAD_UTF8))
            for other in records:  # one type per column: the column becomes binary
                other[field] = str(other.get(field, "")).encode("utf-8", "surrogatepass")
            record[field] = record[field] + bad
    data = parquet_bytes(records)
    if "truncated line" in malformations or "cut-off gzip" in malformations:
        data = data[: draw(st.integers(0, len(data) - 1))]
    if "empty file" in malformations:
        data = draw(st.sampled_from([b"", b"PAR1", b"not parquet at all\n"]))
    return data


def item_maker(make):
    return lambda draw, k: make(draw, ITEMS[k % len(ITEMS)])


@st.composite
def malformed_input(draw, files: dict[str, tuple], config: dict):
    """{name: bytes} of the files (the first one broken; with 1 in 3, the second) and the import config;
    `files` gives each name's (record maker, writer, optional?)."""
    malformations = draw(st.lists(st.sampled_from(MALFORMATIONS), min_size=1, max_size=2, unique=True))
    names = [n for n, (_, _, optional) in files.items() if not optional or draw(st.booleans())]
    target = names[1] if len(names) > 1 and draw(st.integers(0, 2)) == 0 else names[0]
    out = {}
    for name in names:
        make, write, _ = files[name]
        broken = malformations if name == target else []
        out[name] = draw(malformed_file(make, write, broken, parquet=name.endswith(".parquet")))
    chosen = dict(config)
    if chosen.get("format") == "table" and len(names) == 1:
        chosen.pop("meta_column_map", None)
    return out, chosen, malformations


# -- one input per loader ----------------------------------------------------------------------------------------------
def table_files(kind: str, unit: str) -> dict[str, tuple]:
    write = jsonl_lines if kind == "jsonl" else (lambda rs: delimited_lines(rs, DIALECTS.get(kind, "excel")))
    review = lambda draw, k: table_review(draw, k, unit)  # noqa: E731
    return {f"reviews.{kind}": (review, write, False), f"items.{kind}": (item_maker(table_item), write, True)}


def table_input(kind: str):
    @st.composite
    def draw_input(draw):
        unit = draw(st.sampled_from(["s", "ms", "iso"]))
        config = {"format": "table", "column_map": MAP, "meta_column_map": META_MAP}
        config["time_unit"] = draw(st.sampled_from(["auto", unit]))
        if draw(st.booleans()):
            config["rating_scale"] = (1, 5)
        return draw(malformed_input(table_files(kind, unit), config))

    return draw_input()


def recbole_atomic(types: dict[str, str]):
    def write(records):
        header = [f"{name}:{types.get(name, 'token')}" for name in dict.fromkeys(k for r in records for k in r)]
        return delimited_lines(records, "excel-tab", header or None)

    return write


DIALECTS = {"csv": "excel", "tsv": "excel-tab"}
LOADERS = {
    "amazon2014": malformed_input(
        {
            "reviews.json": (amazon2014_review, jsonl_lines, False),
            "meta.json": (item_maker(amazon2014_item), literal_lines, True),
        },
        {"format": "amazon2014"},
    ),
    "amazon2018": malformed_input(
        {
            "reviews.json": (amazon2018_review, jsonl_lines, False),
            "meta.json": (item_maker(amazon2018_item), jsonl_lines, True),
        },
        {"format": "amazon2018"},
    ),
    "amazon2023": malformed_input(
        {
            "reviews.jsonl": (amazon2023_review, jsonl_lines, False),
            "meta.jsonl": (item_maker(amazon2023_item), jsonl_lines, True),
        },
        {"format": "amazon2023"},
    ),
    "yelp": malformed_input(
        {
            "review.json": (yelp_review, jsonl_lines, False),
            "business.json": (item_maker(yelp_business), jsonl_lines, False),
        },
        {"format": "yelp", "city": "Philadelphia"},
    ),
    "table-csv": table_input("csv"),
    "table-tsv": table_input("tsv"),
    "table-jsonl": table_input("jsonl"),
    "table-parquet": table_input("parquet"),
    "recbole": malformed_input(
        {
            "ml.inter": (recbole_review, recbole_atomic(RECBOLE_INTER), False),
            "ml.item": (item_maker(recbole_item), recbole_atomic(RECBOLE_ITEM), True),
        },
        {"format": "recbole"},
    ),
}
SCALED = {"amazon2014", "amazon2018", "amazon2023", "yelp"}


def request_for(folder: Path, files: dict[str, bytes], config: dict, skip: bool) -> ImportRequest:
    paths = {}
    for name, data in files.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    reviews, *others = paths.values()
    meta = others[0] if others else None
    fmt = config["format"]
    return ImportRequest(
        reviews=reviews,
        meta=None if fmt == "yelp" else meta,
        business=meta if fmt == "yelp" else None,
        config=ImportConfig(kcore=0, skip_bad_lines=skip, **config),
    )


def check_error(err: InputError, request: ImportRequest, files: dict[str, bytes]) -> str:
    inputs = {str(p) for p in (request.reviews, request.meta, request.business) if p is not None}
    assert err.path in inputs, f"the error names no input file: {err}"
    if isinstance(err, BadRecord):  # one bad record: it names where it is
        assert (err.line or 0) >= 1 or (err.row or 0) >= 1, f"a bad record without its line or row: {err}"
    data = files[Path(err.path).name]
    if err.line is not None and data[:2] != b"\x1f\x8b":  # gzip: lines are counted after decompression
        assert err.line <= data.count(b"\n") + 1 + data.count(b"\r"), f"line {err.line} is past the end: {err}"
    return "InputError (line/row)" if err.line or err.row else "InputError (whole file)"


def check_workspace(ws: Workspace, loader: str) -> None:
    reviews, items, split = load_workspace_tables(ws)
    assert len(reviews) > 0 and len(split) == len(reviews)
    assert set(split["split"]) <= {"train", "valid", "test"}
    assert (reviews["user_id"].str.len() > 0).all() and (reviews["item_id"].str.len() > 0).all()
    assert set(items["item_id"]) == set(reviews["item_id"])
    assert reviews["timestamp"].between(MIN_TIME_MS, MAX_TIME_MS).all()
    if loader in SCALED:
        assert reviews["rating"].between(1, 5).all()
    assert ws.stage_info("data")["status"] == "done"


@pytest.mark.parametrize("loader", sorted(LOADERS))
@settings(
    max_examples=EXAMPLES_PER_LOADER,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(data=st.data())
def test_malformed_input_ends_as_input_error_or_workspace(loader, data):
    files, config, malformations = data.draw(LOADERS[loader], label="files")
    skip = data.draw(st.booleans(), label="skip_bad_lines")
    with tempfile.TemporaryDirectory(prefix="p4r-fuzz-") as folder:
        folder = Path(folder)
        request = request_for(folder, files, config, skip)
        out = folder / "ws"
        try:
            ws, _ = import_dataset(request, out)
        except InputError as err:
            outcome = check_error(err, request, files)
            assert not out.exists(), "a failed import left a workspace"
        else:
            check_workspace(ws, loader)
            outcome = "workspace"
        leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".ws")]
        assert not leftovers, f"staging folders left behind: {leftovers}"
    COUNTS[(loader, outcome)] += 1
    for malformation in malformations:
        BY_MALFORMATION[(malformation, outcome)] += 1


def summary() -> dict:
    by_outcome = Counter()
    for (_, outcome), n in COUNTS.items():
        by_outcome[outcome] += n
    return {
        "inputs": sum(COUNTS.values()),
        "by_outcome": dict(sorted(by_outcome.items())),
        "by_loader": {
            loader: {o: n for (name, o), n in sorted(COUNTS.items()) if name == loader} for loader in sorted(LOADERS)
        },
        "by_malformation": {
            m: {o: n for (name, o), n in sorted(BY_MALFORMATION.items()) if name == m} for m in MALFORMATIONS
        },
    }


def test_the_fuzz_ran_a_thousand_inputs_through_every_loader(capsys):
    ran = {loader for loader, _ in COUNTS}
    if ran != set(LOADERS):
        pytest.skip(f"only {sorted(ran)} ran in this session (a -k selection); the count is for a whole run")
    counts = summary()
    lines = [
        f"fuzz: {counts['inputs']} malformed inputs through {len(LOADERS)} loaders -> "
        + ", ".join(f"{n} {o}" for o, n in counts["by_outcome"].items())
    ]
    for group in ("by_loader", "by_malformation"):
        for name, outcomes in counts[group].items():
            lines.append(f"  {name:22s} " + ", ".join(f"{n} {o}" for o, n in outcomes.items()))
    with capsys.disabled():  # on the terminal whatever the capture mode, for the run's log
        print("\n" + "\n".join(lines))
    if os.environ.get("PERSONA4REC_FUZZ_COUNTS"):
        Path(os.environ["PERSONA4REC_FUZZ_COUNTS"]).write_text(json.dumps(counts, indent=2) + "\n")
    assert counts["inputs"] >= 1_000
    assert all(sum(outcomes.values()) >= EXAMPLES_PER_LOADER for outcomes in counts["by_loader"].values())
