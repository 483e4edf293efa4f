"""`persona4rec data import/stats` in-process: the stats text on a messy fixture, and the extension
points other modules use (more `data` verbs, more `--format`s)."""

from __future__ import annotations

import argparse
import json

import pandas as pd

from persona4rec.cli import build_parser, main, verb_group
from persona4rec.cli.data import GROUP_HELP
from persona4rec.data import formats
from persona4rec.data.loaders.common import LoadedDataset

DAY = 86_400


def review(user, item, day, text="solid", rating=4.0):
    return {
        "reviewerID": user,
        "asin": item,
        "overall": rating,
        "summary": "",
        "reviewText": text,
        "unixReviewTime": day * DAY,
    }


def test_stats_report_what_cleaning_did(tmp_path, capsys):
    rows = [
        review(f"u{u}", f"i{i}", u + i, text="<p>Warm &amp; clear</p>" if (u, i) == (1, 0) else "solid")
        for u in range(4)
        for i in range(3)
    ]
    rows.append(review("u0", "i0", 99, text=""))  # duplicate pair, later: wins, and is textless
    lines = [json.dumps(r) for r in rows] + ["{broken"]
    (tmp_path / "r.json").write_text("\n".join(lines) + "\n")
    (tmp_path / "m.json").write_text(
        "\n".join(
            [
                repr({"asin": "i0", "title": "<img src='x.jpg'/>", "brand": "Acme", "categories": [["Audio", "Amps"]]}),
                json.dumps({"asin": "i1", "title": "Amp &amp; cab", "description": "Loud."}),
            ]
        )
        + "\n"
    )
    assert (
        main(
            [
                "data",
                "import",
                str(tmp_path / "r.json"),
                "--meta",
                str(tmp_path / "m.json"),
                "--kcore",
                "3",
                "--skip-bad-lines",
                "--out",
                str(tmp_path / "ws"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["data", "stats", str(tmp_path / "ws")]) == 0
    text = capsys.readouterr().out
    for words in (
        "users          4",
        "items          3",
        "interactions   12",
        "density        1.0000",
        "ratings        4: 12",
        "91.7% with text, 8.3% textless",
        "title 66.7%, description 33.3%, categories 33.3%  (1 items had no metadata record)",
        "split          train 4, valid 4, test 4",
        "before       13 interactions, 4 users, 3 items",
        "review_text 1",
        "item_title 2",
        "1 markup-only titles replaced (from brand 1)",
        "1 duplicate (user, item) pairs removed",
        "1 skipped (malformed_line 1)",
        "k=3: removed 0 interactions, 0 users, 0 items in 1 rounds",
    ):
        assert words in text, words
    assert main(["data", "stats", str(tmp_path / "nope")]) == 2
    assert "not a workspace" in capsys.readouterr().err


def test_other_modules_can_add_data_verbs():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    verbs = verb_group(subparsers, "data", GROUP_HELP)
    assert {"import", "stats"} <= set(verbs.choices)
    demo = verbs.add_parser("demo-test")
    demo.set_defaults(func=lambda args: 0)
    assert verb_group(subparsers, "data", GROUP_HELP) is verbs
    assert parser.parse_args(["data", "demo-test"]).func(None) == 0


def test_registered_formats_are_usable_from_the_cli(tmp_path, capsys):
    seen = {}

    def load_custom(request: formats.ImportRequest) -> LoadedDataset:
        seen["reviews"] = request.reviews
        reviews = pd.DataFrame(
            {
                "user_id": ["u", "u", "u"],
                "item_id": ["a", "b", "c"],
                "rating": [5.0, 4.0, 3.0],
                "title": "",
                "text": ["x", "y", "z"],
                "timestamp": [1, 2, 3],
            }
        )
        return LoadedDataset(
            reviews=reviews, items=None, report={"format": "custom"}, inputs=[request.reviews], source="custom"
        )

    formats.register_format("custom-test", load_custom)
    try:
        (tmp_path / "folder").mkdir()
        (tmp_path / "folder" / "f.txt").write_text("x")
        assert (
            main(
                [
                    "data",
                    "import",
                    str(tmp_path / "folder" / "f.txt"),
                    "--format",
                    "custom-test",
                    "--kcore",
                    "0",
                    "--out",
                    str(tmp_path / "ws"),
                ]
            )
            == 0
        )
        assert seen["reviews"].name == "f.txt"
        assert json.loads((tmp_path / "ws" / "manifest.json").read_text())["source"] == "custom"
        assert (
            main(
                [
                    "data",
                    "import",
                    str(tmp_path / "folder" / "f.txt"),
                    "--format",
                    "nope",
                    "--out",
                    str(tmp_path / "ws2"),
                ]
            )
            == 2
        )
        assert "unknown format 'nope'" in capsys.readouterr().err
    finally:
        del formats.FORMATS["custom-test"]
