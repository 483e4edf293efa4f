"""A tiny but realistic workspace for the offline stage tests (written with the core schema helpers)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from persona4rec.data.schema import as_items, as_reviews, items_to_disk
from persona4rec.io import write_parquet
from persona4rec.workspace import Workspace

ITEMS = [
    {
        "item_id": "A1",
        "title": "Steel Acoustic Guitar Strings",
        "categories": ["Instruments", "Strings"],
        "description": "Phosphor bronze strings for acoustic guitar. Light gauge for easy playing. Pack of six.",
    },
    {"item_id": "B2", "title": "Clip-on Tuner", "categories": [], "description": ""},  # no metadata
    {
        "item_id": "C3",
        "title": "Cable Organizer",
        "categories": ["Accessories"],
        "description": "Velcro ties for cables.",
    },
    {"item_id": "D4", "title": "Practice Pad", "categories": ["Drums"], "description": "A quiet rubber practice pad."},
]

GIFT = "I bought these as a birthday gift for my son who is just starting to learn guitar."
STAGE = "I play them live on stage every weekend with my band and they stay in tune."
CHEAP = "They broke after two days, really poor quality and cheaply made."
REVIEWS = [
    # user, item, rating, title, text, day
    ("u1", "A1", 5, "Great gift", GIFT, 1),
    (
        "u2",
        "A1",
        5,
        "Gift for my daughter",
        "I purchased them as a present for my daughter, a beginner guitar player.",
        2,
    ),
    ("u3", "A1", 4, "Stage ready", STAGE, 3),
    ("u4", "A1", 5, "Gig strings", "We use them at every gig on stage, our band plays live shows weekly.", 4),
    ("u5", "A1", 1, "Junk", CHEAP, 5),
    ("u6", "A1", 1, "Snapped", "Two strings snapped on the first day, terrible quality and flimsy.", 6),
    ("u1", "B2", 4, "Handy tuner", "I use it at home every day to tune my guitar before practice.", 7),
    ("u2", "B2", 5, "Accurate", "The tuner is accurate and very well made, worth the price.", 8),
    ("u3", "B2", 5, "", "I keep it clipped to my guitar when I play live with the band on stage.", 9),
    ("u4", "B2", 3, "", "", 10),  # textless: an interaction without aspects
    ("u1", "C3", 3, "ok", "ok", 11),  # no usable aspect: C3 becomes summary-only
    ("u2", "C3", 4, "fine", "fine", 12),
    ("u3", "C3", 5, "Tidy desk", "I keep the cables on my desk at work tidy with these ties.", 13),  # held out
    ("u1", "D4", 5, "Quiet practice", "I practice drums at night in my apartment without waking the neighbours.", 14),
    ("u5", "B2", 2, "Meh", "It stopped working after a month, cheap plastic and poor quality.", 15),
    ("u6", "B2", 4, "Gift", "Bought it as a gift for my nephew who is learning guitar.", 16),
    ("u5", "D4", 4, "Travel", "I take it with me when I travel so I can practice in hotel rooms.", 17),
    ("u6", "D4", 5, "Drummer gift", "A present for my drummer friend, he uses it every day.", 18),
    ("u7", "B2", 5, "Zoo tuner", "I tune the xylophone at the zoo with it before every zebra show.", 19),  # held out
]
# Held-out interactions (valid/test); everything else is train.
HELD_OUT = {
    ("u3", "C3"): "test",
    ("u6", "D4"): "test",
    ("u5", "D4"): "valid",
    ("u4", "B2"): "test",
    ("u7", "B2"): "test",
}
HELD_OUT_WORD = "zebra"  # appears only in a held-out review: must never reach a summary or a persona


def build_tiny_workspace(root: Path) -> Workspace:
    reviews = pd.DataFrame(
        [
            {"user_id": u, "item_id": i, "rating": float(r), "title": t, "text": x, "timestamp": d * 86_400_000}
            for u, i, r, t, x, d in REVIEWS
        ]
    )
    split = pd.DataFrame([{"user_id": u, "item_id": i, "split": HELD_OUT.get((u, i), "train")} for u, i, *_ in REVIEWS])
    with Workspace.create(root) as ws:
        write_parquet(ws.data_dir / "reviews.parquet", as_reviews(reviews))
        write_parquet(ws.data_dir / "items.parquet", items_to_disk(as_items(pd.DataFrame(ITEMS))))
        write_parquet(ws.data_dir / "split.parquet", split)
    return Workspace.open(root)


class CountingBackend:
    """The real extractive backend, wrapped to count the units it is asked for and, to test resume and
    clean stops, to raise `fail_with` once `fail_after` units of `fail_task` have been done."""

    TASKS = ("summarize", "extract_aspects", "generate_personas", "align")

    def __init__(
        self,
        inner,
        fail_task: str | None = None,
        fail_after: int = 0,
        fail_with: Exception | None = None,
        error_keys: set[str] = frozenset(),
    ):
        self.inner, self.name, self.batch_size = inner, inner.name, inner.batch_size
        self.units = {task: 0 for task in self.TASKS}
        self.fail_task, self.fail_after, self.fail_with = fail_task, fail_after, fail_with
        self.error_keys = set(error_keys)  # these units come back as validation failures

    def estimate(self, task, inputs):
        self.estimated = (task, len(inputs))
        return self.inner.estimate(task, inputs)

    def _call(self, task, units):
        if task == self.fail_task and self.units[task] + len(units) > self.fail_after:
            raise self.fail_with
        self.units[task] += len(units)
        results = getattr(self.inner, task)(units)
        for result in results:
            if result.key in self.error_keys:
                result.value, result.error, result.raw = None, "answer failed validation", '{"bad": true}'
        return results

    def summarize(self, units):
        return self._call("summarize", units)

    def extract_aspects(self, units):
        return self._call("extract_aspects", units)

    def generate_personas(self, units):
        return self._call("generate_personas", units)

    def align(self, units):
        return self._call("align", units)
