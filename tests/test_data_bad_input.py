"""Bad input: each problem is one clear error naming file, line and field, and leaves no workspace;
with --skip-bad-lines the same lines are skipped and counted in the import report."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from persona4rec.cli import main

GOOD = {
    "reviewerID": "u1",
    "asin": "A",
    "overall": 4.0,
    "summary": "ok",
    "reviewText": "fine",
    "unixReviewTime": 1_400_000_000,
}


def good(i: int) -> dict:
    return {**GOOD, "reviewerID": f"u{i % 3}", "asin": f"I{i // 3}", "unixReviewTime": 1_400_000_000 + i}


def lines_with(bad_line: bytes, n_good: int = 9, at: int = 4) -> bytes:
    rows = [json.dumps(good(i)).encode() for i in range(n_good)]
    rows.insert(at, bad_line)
    return b"\n".join(rows) + b"\n"


CASES = {
    # name: (file bytes, line, field or None, words the message must contain)
    "not_json": (lines_with(b'{"reviewerID": "u9", "asin": '), 5, None, "not a JSON object"),
    "not_an_object": (lines_with(b'["u9", "A"]'), 5, None, "expected an object"),
    "missing_field": (
        lines_with(json.dumps({k: v for k, v in GOOD.items() if k != "asin"}).encode()),
        5,
        "asin",
        "required field is missing",
    ),
    "wrong_type": (lines_with(json.dumps({**GOOD, "overall": "five"}).encode()), 5, "overall", "expected a number"),
    "wrong_time": (
        lines_with(json.dumps({**GOOD, "unixReviewTime": "02 28, 2014"}).encode()),
        5,
        "unixReviewTime",
        "integer Unix time",
    ),
    "undecodable": (lines_with(b'{"reviewerID": "u\xff\xfe", "asin": "A"}'), 5, None, "not valid UTF-8"),
}


def run_import(tmp_path: Path, data: bytes, *extra: str, name: str = "reviews.json") -> tuple[int, Path]:
    path = tmp_path / name
    path.write_bytes(data)
    out = tmp_path / "ws"
    return main(["data", "import", str(path), "--format", "amazon2014", "--kcore", "0", "--out", str(out), *extra]), out


def assert_nothing_left(tmp_path: Path) -> None:
    assert not (tmp_path / "ws").exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".ws")], "staging folder left behind"


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_line_is_named_and_leaves_nothing(case, tmp_path, capsys):
    data, line, field, words = CASES[case]
    rc, _ = run_import(tmp_path, data)
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert f"reviews.json, line {line}" in err and words in err
    if field:
        assert f"field '{field}'" in err
    assert_nothing_left(tmp_path)


def truncated_gzip() -> bytes:
    whole = gzip.compress(b"\n".join(json.dumps(good(i)).encode() for i in range(300)) + b"\n")
    return whole[: len(whole) * 2 // 3]


def test_truncated_gzip_is_named_and_leaves_nothing(tmp_path, capsys):
    rc, _ = run_import(tmp_path, truncated_gzip(), name="reviews.json.gz")
    err = capsys.readouterr().err
    assert rc == 2 and "reviews.json.gz, line" in err and "truncated" in err
    assert_nothing_left(tmp_path)


def test_skip_bad_lines_counts_every_reason(tmp_path, capsys):
    bad = [CASES[c][0].split(b"\n")[4] for c in sorted(CASES)]
    rows = [json.dumps(good(i)).encode() for i in range(12)] + bad
    rc, out = run_import(tmp_path, b"\n".join(rows) + b"\n", "--skip-bad-lines")
    assert rc == 0, capsys.readouterr().err
    report = json.loads((out / "data" / "import_report.json").read_text())
    skipped = report["files"]["reviews"]["bad_lines"]
    assert skipped["by_reason"] == {"malformed_line": 2, "missing_field": 1, "undecodable_line": 1, "wrong_type": 2}
    assert report["bad_lines_skipped"] == 6 and len(skipped["examples"]) == 5
    assert report["counts_before"]["interactions"] == 12
    assert "6 bad lines skipped" in capsys.readouterr().out


def test_skip_bad_lines_keeps_what_precedes_a_truncation(tmp_path, capsys):
    rc, out = run_import(tmp_path, truncated_gzip(), "--skip-bad-lines", name="reviews.json.gz")
    assert rc == 0
    report = json.loads((out / "data" / "import_report.json").read_text())
    assert report["files"]["reviews"]["bad_lines"]["by_reason"] == {"truncated_file": 1}
    assert 0 < report["counts_before"]["interactions"] < 300


def test_all_lines_bad_is_an_error_even_when_skipping(tmp_path, capsys):
    rc, _ = run_import(tmp_path, b"not json\nnor this\n", "--skip-bad-lines")
    assert rc == 2 and "no usable review records (2 bad lines skipped)" in capsys.readouterr().err
    assert_nothing_left(tmp_path)


def test_bad_metadata_line_names_the_meta_file(tmp_path, capsys):
    meta = tmp_path / "meta.json"
    meta.write_text(repr({"asin": "I0", "title": "x"}) + "\n" + repr({"asin": "I1", "categories": "Rock"}) + "\n")
    rc, _ = run_import(tmp_path, lines_with(json.dumps(good(99)).encode()), "--meta", str(meta))
    err = capsys.readouterr().err
    assert rc == 2 and "meta.json, line 2, field 'categories'" in err
    assert_nothing_left(tmp_path)


def test_failed_overwrite_keeps_the_old_workspace(tmp_path, capsys):
    rc, out = run_import(tmp_path, lines_with(json.dumps(good(99)).encode()))
    assert rc == 0
    before = (out / "data" / "reviews.parquet").read_bytes()
    rc, _ = run_import(tmp_path, CASES["wrong_type"][0], "--overwrite")
    assert rc == 2 and (out / "data" / "reviews.parquet").read_bytes() == before
    rc, _ = run_import(tmp_path, lines_with(json.dumps(good(99)).encode()))
    assert rc == 2 and "already exists" in capsys.readouterr().err


def test_overwrite_never_replaces_a_folder_that_is_not_a_workspace(tmp_path, capsys):
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "thesis.tex").write_text("precious")
    rc, out = run_import(tmp_path, lines_with(json.dumps(good(99)).encode()), "--overwrite")
    assert rc == 2 and "is not a workspace" in capsys.readouterr().err
    assert (out / "thesis.tex").read_text() == "precious"


def test_undetectable_format_and_missing_file(tmp_path, capsys):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"foo": 1}) + "\n")
    assert main(["data", "import", str(path), "--out", str(tmp_path / "ws")]) == 2
    assert "cannot detect the format" in capsys.readouterr().err
    assert main(["data", "import", str(tmp_path / "nope.json"), "--out", str(tmp_path / "ws")]) == 2
    assert "nope.json: file not found" in capsys.readouterr().err
    assert_nothing_left(tmp_path)


def test_console_script_exits_2_with_one_line(tmp_path):
    """The one subprocess: the real entry point prints a single error line, no traceback."""
    path = tmp_path / "reviews.json"
    path.write_bytes(CASES["missing_field"][0])
    proc = subprocess.run(
        [sys.executable, "-m", "persona4rec.cli", "data", "import", str(path), "--out", str(tmp_path / "ws")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [f"error: {path}, line 5, field 'asin': required field is missing"]
    assert_nothing_left(tmp_path)
