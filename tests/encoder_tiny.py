"""A tiny hand-written workspace for the encoder/index/rerank tests: real files in the documented
schemas (data/*.parquet, offline/*.jsonl), small enough to encode with the real model in seconds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from persona4rec.data.schema import as_items, as_reviews, items_to_disk
from persona4rec.io import write_jsonl, write_parquet
from persona4rec.offline.schema import AspectTuple, Persona
from persona4rec.workspace import Workspace

BACKEND = "test:handwritten"

ITEMS = {
    "guitar": ("Acoustic guitar", "A steel-string acoustic guitar with a solid spruce top."),
    "drums": ("Drum kit", "A five-piece drum kit with cymbals and a throne."),
    "piano": ("Digital piano", "An 88-key weighted digital piano with headphone output."),
    "tuner": ("Clip-on tuner", "A clip-on chromatic tuner for guitar, bass and ukulele."),
    "sticks": ("Drum sticks", "A pair of hickory 5A drum sticks."),
    "bench": ("Piano bench", "An adjustable padded bench for keyboards and pianos."),
    "cable": ("Instrument cable", "A 10 ft shielded instrument cable."),  # no persona record
}

PERSONAS = {
    "guitar": [
        (
            "P1",
            "Beginner guitarist",
            "Someone learning their first chords at home.",
            "Reviews praise how easy it is to play for a beginner.",
        ),
        (
            "P2",
            "Gigging folk singer",
            "A performer who plays acoustic sets on stage.",
            "Reviewers who perform say it projects well on stage.",
        ),
    ],
    "drums": [
        (
            "P1",
            "Rock drummer",
            "A loud drummer playing in a garage rock band.",
            "Reviewers in bands value how loud and punchy the kit is.",
        ),
        (
            "P2",
            "Parent of a young drummer",
            "A parent buying a first kit for a child.",
            "Parents say it was affordable and easy to assemble for kids.",
        ),
    ],
    "piano": [
        (
            "P1",
            "Classical pianist",
            "A pianist who practises classical repertoire daily.",
            "Reviewers praise the weighted keys that feel like an acoustic piano.",
        ),
        (
            "P2",
            "Apartment player",
            "Someone who must practise silently with headphones at night.",
            "Reviewers value the headphone output for quiet practice.",
        ),
        (
            "P3",
            "Music teacher",
            "A teacher who uses it for lessons with students.",
            "Teachers say it is reliable for daily lessons.",
        ),
    ],
    "tuner": [
        (
            "P1",
            "Guitar player who tunes often",
            "A guitarist who needs quick, accurate tuning.",
            "Guitarists say it tunes quickly and accurately.",
        )
    ],
    "sticks": [
        (
            "P1",
            "Rock drummer",
            "A heavy-hitting drummer who breaks sticks.",
            "Drummers say the hickory survives hard rock playing.",
        ),
        ("P2", "Beginner drummer", "A student learning basic beats.", "Beginners like the balanced light feel."),
    ],
    "bench": [
        (
            "P1",
            "Pianist needing comfort",
            "A pianist who practises for hours.",
            "Reviewers value the padded seat for long practice.",
        )
    ],
}

# user -> [(item, timestamp, split, aspect phrase)] ; aspect phrase None = textless review
HISTORIES = {
    "u_guitar": [
        ("tuner", 1, "train", "tuning my guitar quickly"),
        ("cable", 2, "train", "plugging in my acoustic guitar"),
        ("guitar", 3, "train", "learning guitar chords at home"),
        ("piano", 4, "valid", None),
        ("bench", 5, "test", "sitting comfortably"),
    ],
    "u_drums": [
        ("sticks", 1, "train", "hard rock drumming"),
        ("drums", 2, "train", "playing loud in my rock band"),
        ("cable", 3, "train", None),
        ("tuner", 4, "valid", "tuning the bass"),
        ("guitar", 5, "test", "strumming"),
    ],
    "u_piano": [
        ("bench", 1, "train", "long piano practice sessions"),
        ("piano", 2, "train", "classical piano practice"),
        ("tuner", 3, "train", "tuning"),
        ("cable", 4, "valid", "connecting my keyboard"),
        ("drums", 5, "test", "a present for my kid"),
    ],
    "u_mixed": [
        ("guitar", 10, "train", "gigging on stage"),
        ("drums", 11, "train", "a kit for my child"),
        ("piano", 12, "train", "practising quietly with headphones"),
        ("sticks", 13, "valid", "beginner beats"),
        ("bench", 14, "test", "comfortable seat"),
    ],
    "u_new": [
        ("cable", 1, "train", "cable for guitar amp"),
        ("guitar", 2, "valid", "first guitar"),
        ("tuner", 3, "test", "tuning"),
    ],
}

ALIGNMENT = [
    ("u_guitar", "guitar", "P1"),
    ("u_drums", "drums", "P1"),
    ("u_drums", "sticks", "P1"),
    ("u_piano", "piano", "P1"),
    ("u_piano", "bench", "P1"),
    ("u_mixed", "drums", "P2"),
    ("u_mixed", "piano", "P2"),
    ("u_guitar", "cable", "P1"),
    ("u_piano", "tuner", "P1"),
]


def aspects_for(phrase: str | None) -> AspectTuple | None:
    if phrase is None:
        return None
    return AspectTuple(
        purchase_purpose=phrase,
        purchase_purpose_reason=f"the review mentions {phrase}",
        usage_context=phrase,
        usage_context_reason="stated in the review",
    )


def build_tiny_workspace(root: Path) -> Workspace:
    reviews, split = [], []
    for user, rows in HISTORIES.items():
        for item, ts, part, phrase in rows:
            reviews.append(
                {
                    "user_id": user,
                    "item_id": item,
                    "rating": 5.0,
                    "title": "",
                    "text": phrase or "",
                    "timestamp": ts * 1000,
                }
            )
            split.append({"user_id": user, "item_id": item, "split": part})
    items = pd.DataFrame([{"item_id": i, "title": t, "description": d} for i, (t, d) in ITEMS.items()])
    with Workspace.create(root) as ws:
        write_parquet(ws.data_dir / "reviews.parquet", as_reviews(pd.DataFrame(reviews)))
        write_parquet(ws.data_dir / "items.parquet", items_to_disk(as_items(items)))
        write_parquet(ws.data_dir / "split.parquet", pd.DataFrame(split).astype("string"))
        write_jsonl(
            ws.offline_dir / "summaries.jsonl",
            [{"item_id": i, "summary": d, "source": "metadata", "backend": BACKEND} for i, (_, d) in ITEMS.items()],
        )
        aspect_rows = []
        for user, rows in HISTORIES.items():
            for item, _, _, phrase in rows:
                tup = aspects_for(phrase)
                if tup is not None:
                    aspect_rows.append(
                        {
                            "user_id": user,
                            "item_id": item,
                            "aspects": tup.model_dump(),
                            "null_fraction": tup.null_fraction(),
                            "kept": tup.usable(),
                            "backend": BACKEND,
                        }
                    )
        write_jsonl(ws.offline_dir / "aspects.jsonl", aspect_rows)
        write_personas(ws, PERSONAS)
        single = {i: [(pid, name, desc, why)] for i, ((pid, name, desc, why), *_) in PERSONAS.items()}
        write_jsonl(
            ws.offline_dir / "personas_single.jsonl", [persona_record(i, p, "single") for i, p in single.items()]
        )
        write_jsonl(
            ws.offline_dir / "alignment.jsonl",
            [
                {"user_id": u, "item_id": i, "persona_id": p, "justification": "test", "backend": BACKEND}
                for u, i, p in ALIGNMENT
            ],
        )
    return Workspace.open(root)


def persona_record(item_id: str, personas, mode: str = "multi") -> dict:
    return {
        "item_id": item_id,
        "mode": mode,
        "summary_only": False,
        "evidence": {},
        "backend": BACKEND,
        "personas": [
            Persona(id=pid, name=n, description=d, preference_rationale=w).model_dump() for pid, n, d, w in personas
        ],
    }


def write_personas(ws: Workspace, personas: dict) -> None:
    write_jsonl(ws.offline_dir / "personas.jsonl", [persona_record(i, p) for i, p in personas.items()])


CATALOGUE_ORDER = ["guitar", "drums", "piano", "bench", "sticks", "cable", "tuner"]


def write_full_candidates(ws: Workspace, generator: str = "bpr") -> None:
    """Candidate lists by hand: every user gets every catalogue item in one fixed CF order, valid and test."""
    rows = [
        {"user_id": user, "split": split, "rank": rank, "item_id": item, "score": 10.0 - rank}
        for split in ("valid", "test")
        for user in HISTORIES
        for rank, item in enumerate(CATALOGUE_ORDER, 1)
    ]
    write_parquet(
        ws.candidates_dir / f"{generator}.parquet", pd.DataFrame(rows).astype({"score": "float32", "rank": "int64"})
    )
