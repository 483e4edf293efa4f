"""The paper authors' artifact files (github.com/legenduck/PERSONA4REC, data/sample): read and write.

One folder holds one domain's files, each JSON lines (gzip or plain, `.jsonl` or `.jsonl.gz`):

    1_aspects                 review -> extracted_aspects (review_id, item_id, user_id, rating, timestamp,
                              [review_title,] review_text, extracted_aspects)
    2_summary                 item_id, item_title, item_description, item_summary
    2.5_grouped               the same + aspects (a list of 1_aspects lines) + aspect_count
    3_personas                the same + review_count, personas [{ID, Name, Description,
                              Preference_Rationale}], persona_count
    3.5_history(_loo)         user_id, reviews [{user_id, item_id, review_title, summary, extracted,
                              timestamp, rating}] (oldest first; _loo leaves the held-out item out)
    3.5_gt                    user_id, item_id: the held-out item
    3.5_persona_with_summary  item_id, personas [{..., Item_Summary, unique_persona_id}]
    4_selected_personas       user_id, target_item_id, selected_persona_id, selected_persona_name,
                              selected_persona {...}, selection_reasoning

Two dialects exist. "amazon" (Books, Amazon 2023): integer review ids, Unix-millisecond timestamps,
review titles, and the paper's four aspect slots. "yelp": string review ids, "YYYY-MM-DD HH:MM:SS"
timestamps, no review title in 1_aspects, and restaurant slots, mapped onto ours as
cuisine_category -> category_preference, visit_purpose -> purchase_purpose, quality_criteria ->
quality_criteria (its evidence, specific_dishes_or_attributes, -> quality_criteria_reason), visit_context
-> usage_context; the mapping is one-to-one, so writing back restores the same keys.

On export, 1_aspects holds every review (with "extracted_aspects": null where none was extracted yet),
so review texts travel even from a workspace whose aspects stage has not run.

This module is the format only: it reads a folder into plain rows and dicts (`AuthorsArtifacts`) with
each record's file and line kept for error messages, and writes such rows back with exactly the
authors' keys. Turning them into a workspace and offline records is authors/interop.py.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data.fields import Fields
from ..data.reading import BAD_VALUE, MISSING_FIELD, WRONG_TYPE, BadLines, BadRecord, iter_records
from ..errors import InputError
from ..io import atomic_path

ORIGIN = "authors:gpt-4o-mini"
FILES = (
    "1_aspects",
    "2_summary",
    "2.5_grouped",
    "3_personas",
    "3.5_history",
    "3.5_history_loo",
    "3.5_gt",
    "3.5_persona_with_summary",
    "4_selected_personas",
)
DIALECTS = ("amazon", "yelp")
SLOTS = ("category_preference", "purchase_purpose", "quality_criteria", "usage_context")
SLOT_FIELDS = tuple(f for s in SLOTS for f in (s, f"{s}_reason"))

# authors' aspect key -> our AspectTuple field, in the order the authors' files write them
ASPECT_KEYS: dict[str, dict[str, str]] = {
    "amazon": {
        "category_preference_reason": "category_preference_reason",
        "category_preference": "category_preference",
        "purchase_purpose_reason": "purchase_purpose_reason",
        "purchase_purpose": "purchase_purpose",
        "quality_criteria_reason": "quality_criteria_reason",
        "quality_criteria": "quality_criteria",
        "usage_context_reason": "usage_context_reason",
        "usage_context": "usage_context",
    },
    "yelp": {
        "cuisine_category": "category_preference",
        "cuisine_category_reason": "category_preference_reason",
        "specific_dishes_or_attributes": "quality_criteria_reason",
        "visit_purpose": "purchase_purpose",
        "visit_purpose_reason": "purchase_purpose_reason",
        "quality_criteria": "quality_criteria",
        "visit_context": "usage_context",
        "visit_context_reason": "usage_context_reason",
    },
}
PERSONA_KEYS = {
    "ID": "id",
    "Name": "name",
    "Description": "description",
    "Preference_Rationale": "preference_rationale",
}
YELP_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Origin:
    """Where a record came from, for error messages about it later."""

    path: Path
    line: int
    field: str | None = None

    def error(self, message: str, field: str | None = None) -> InputError:
        where = ".".join(p for p in (self.field, field) if p) or None
        return InputError(message, path=self.path, line=self.line, field=where)


@dataclass
class ReviewObs:
    """One review as a file shows it (some files lack the text, or the title)."""

    user_id: str
    item_id: str
    rating: float | None
    timestamp: int
    title: str | None = None
    text: str | None = None
    review_id: str | None = None
    aspects: dict[str, str | None] | None = None  # our slot names; None where the file has none
    origin: Origin | None = None


@dataclass
class AuthorsArtifacts:
    """A folder's content in our vocabulary. Keys: items by item_id, reviews by (user_id, item_id)."""

    dialect: str = "amazon"
    reviews: dict[tuple[str, str], ReviewObs] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # title, description, review_count
    summaries: dict[str, tuple[str, Origin | None]] = field(default_factory=dict)
    personas: dict[str, tuple[list[dict[str, str]], Origin | None]] = field(default_factory=dict)
    selections: list[dict[str, Any]] = field(default_factory=list)  # user_id, item_id, persona, justification
    held_out: dict[str, str] = field(default_factory=dict)  # 3.5_gt: user -> item
    history_users: list[str] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    inputs: list[Path] = field(default_factory=list)


# -- reading ---------------------------------------------------------------------------------------


class _Fields(Fields):
    """Fields of a record nested inside a line (a history entry, a persona): errors name the full path."""

    def __init__(self, record: dict[str, Any], path: Path, line: int, prefix: str = ""):
        super().__init__(record, path, line)
        self.prefix = prefix

    def _error(self, kind: str, field: str, message: str) -> BadRecord:
        return super()._error(kind, f"{self.prefix}.{field}" if self.prefix else field, message)

    def nested(self, field: str) -> _Fields:
        value = self.mapping(field)
        if field not in self.record or self.record[field] is None:
            raise self._error(MISSING_FIELD, field, "required object is missing")
        return _Fields(value, self.path, self.line, self._name(field))

    def nested_list(self, field: str) -> list[_Fields]:
        value = self._get(field, True)
        if not isinstance(value, list):
            raise self._error(WRONG_TYPE, field, f"expected a list, found {type(value).__name__}")
        out = []
        for i, entry in enumerate(value):
            if not isinstance(entry, dict):
                raise self._error(WRONG_TYPE, f"{field}[{i}]", f"expected an object, found {type(entry).__name__}")
            out.append(_Fields(entry, self.path, self.line, self._name(f"{field}[{i}]")))
        return out

    def _name(self, field: str) -> str:
        return f"{self.prefix}.{field}" if self.prefix else field

    def origin(self) -> Origin:
        return Origin(self.path, self.line, self.prefix or None)

    def time_ms(self, field: str) -> int:
        """The authors' timestamps: integer Unix milliseconds (amazon) or 'YYYY-MM-DD HH:MM:SS' (yelp)."""
        value = self._get(field, True)
        if isinstance(value, str):
            return self.datetime_text(field)
        return self.epoch(field, unit_ms=1)

    def review_id(self, field: str = "review_id") -> str | None:
        value = self._get(field, False)
        return None if value is None else self.id(field)

    def count(self, field: str) -> int | None:
        value = self._get(field, False)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self._error(WRONG_TYPE, field, f"expected a non-negative integer, found {value!r:.40}")
        return value


def _aspects(rec: _Fields, field: str, dialects: set[str]) -> dict[str, str | None] | None:
    """The extracted aspects in our slot names; records which dialect their keys belong to."""
    value = rec._get(field, False)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise rec._error(WRONG_TYPE, field, f"expected an object, found {type(value).__name__}")
    dialect = next((d for d, keys in ASPECT_KEYS.items() if set(value) <= set(keys)), None)
    if dialect is None:
        known = sorted(set(ASPECT_KEYS["amazon"]) | set(ASPECT_KEYS["yelp"]))
        unknown = sorted(set(value) - set(ASPECT_KEYS["amazon"]))
        raise rec._error(BAD_VALUE, field, f"unknown aspect keys {unknown[:6]} (known: {known})")
    if value:
        dialects.add(dialect)
    out: dict[str, str | None] = {name: None for name in SLOT_FIELDS}
    for key, ours in ASPECT_KEYS[dialect].items():
        item = value.get(key)
        if item is not None and not isinstance(item, str):
            raise rec._error(WRONG_TYPE, f"{field}.{key}", f"expected a string or null, found {type(item).__name__}")
        out[ours] = item
    return out


def _persona(rec: _Fields) -> dict[str, str]:
    return {ours: rec.text(theirs, required=True) for theirs, ours in PERSONA_KEYS.items()}


class _Reader:
    """Reads a folder file by file into one AuthorsArtifacts, merging what the files repeat.

    Each line is parsed whole before anything from it is kept, so a bad line skipped with
    `skip_bad_lines` contributes nothing, not even its nested entries before the bad one.
    """

    def __init__(self, folder: Path, skip_bad_lines: bool):
        self.folder = folder
        self.skip = skip_bad_lines
        self.art = AuthorsArtifacts()
        self.dialects: set[str] = set()
        self.conflicts: dict[str, int] = {"summaries": 0, "items": 0, "personas": 0}
        self.duplicate_reviews = 0
        self.files: dict[str, Any] = {}

    def each(self, name: str, parse: Callable[[_Fields], Callable[[], None]]) -> None:
        """Parse every line of file `name` (when present); `parse` returns what commits the line."""
        path = find_file(self.folder, name)
        if path is None:
            self.files[name] = None
            return
        self.art.inputs.append(path)
        bad = BadLines(self.skip)
        n = 0
        for line_no, record in iter_records(path, bad):
            try:
                commit = parse(_Fields(record, path, line_no))
            except BadRecord as err:
                bad.handle(err)
                continue
            commit()
            n += 1
        self.files[name] = {"path": str(path), "records": n, "bad_lines": bad.report()}

    # -- merging what several files say about the same review, item or persona set -------------
    def add_review(self, obs: ReviewObs) -> None:
        key = (obs.user_id, obs.item_id)
        old = self.art.reviews.get(key)
        if old is None:
            self.art.reviews[key] = obs
        elif old.timestamp == obs.timestamp:  # the same review seen in another file: fill what it lacked
            for name in ("title", "text", "review_id", "aspects", "rating"):
                if getattr(old, name) is None and getattr(obs, name) is not None:
                    setattr(old, name, getattr(obs, name))
        else:  # a second review of the pair (Yelp allows it): the latest wins, as in the data importer
            self.duplicate_reviews += 1
            if obs.timestamp > old.timestamp:
                self.art.reviews[key] = obs

    def add_item(self, item_id: str, row: dict[str, Any]) -> None:
        if not (row["title"] or row["description"] or row["review_count"] is not None):
            return  # a line that only names the item says nothing about it
        old = self.art.items.get(item_id)
        if old is None:
            self.art.items[item_id] = dict(row)
            return
        if (old["title"], old["description"]) != (row["title"], row["description"]):
            self.conflicts["items"] += 1
        if old.get("review_count") is None:
            old["review_count"] = row["review_count"]

    def add_summary(self, item_id: str, summary: str, origin: Origin) -> None:
        if not summary.strip():
            return
        old = self.art.summaries.get(item_id)
        if old is None:
            self.art.summaries[item_id] = (summary, origin)
        elif old[0] != summary:
            self.conflicts["summaries"] += 1

    def add_personas(self, item_id: str, personas: list[dict[str, str]], origin: Origin) -> None:
        old = self.art.personas.get(item_id)
        if old is None:
            self.art.personas[item_id] = (personas, origin)
        elif old[0] != personas:
            self.conflicts["personas"] += 1

    # -- parsing the lines of each file ----------------------------------------------------------
    def aspect_obs(self, rec: _Fields) -> ReviewObs:
        if "extracted_aspects" not in rec.record:
            raise rec._error(MISSING_FIELD, "extracted_aspects", "required field is missing")
        aspects = _aspects(rec, "extracted_aspects", self.dialects)  # null: not extracted yet
        return ReviewObs(
            user_id=rec.id("user_id"),
            item_id=rec.id("item_id"),
            rating=rec.number("rating"),
            timestamp=rec.time_ms("timestamp"),
            title=rec.text("review_title") if "review_title" in rec.record else None,
            text=rec.text("review_text", required=True),
            review_id=rec.review_id(),
            aspects=aspects,
            origin=rec.origin(),
        )

    def item_head(self, rec: _Fields) -> tuple[str, dict[str, Any], str]:
        item_id = rec.id("item_id")
        row = {
            "title": rec.text("item_title"),
            "description": rec.text("item_description"),
            "review_count": rec.count("review_count"),
        }
        return item_id, row, rec.text("item_summary", required=True)

    def commit_item(self, rec: _Fields, item_id: str, row: dict[str, Any], summary: str) -> None:
        self.add_item(item_id, row)
        self.add_summary(item_id, summary, rec.origin())

    def parse_aspects(self, rec: _Fields):
        obs = self.aspect_obs(rec)
        return lambda: self.add_review(obs)

    def parse_summary(self, rec: _Fields):
        head = self.item_head(rec)
        return lambda: self.commit_item(rec, *head)

    def parse_grouped(self, rec: _Fields):
        head = self.item_head(rec)
        reviews = [self.aspect_obs(entry) for entry in rec.nested_list("aspects")]

        def commit() -> None:
            self.commit_item(rec, *head)
            for obs in reviews:
                self.add_review(obs)

        return commit

    def parse_personas(self, rec: _Fields):
        head = self.item_head(rec)
        personas = [_persona(p) for p in rec.nested_list("personas")]

        def commit() -> None:
            self.commit_item(rec, *head)
            self.add_personas(head[0], personas, rec.origin())

        return commit

    def parse_persona_with_summary(self, rec: _Fields):
        item_id = rec.id("item_id")
        personas, summaries = [], []
        for entry in rec.nested_list("personas"):
            persona = _persona(entry)
            unique = entry.text("unique_persona_id")
            if unique and unique != f"{item_id}_{persona['id']}":
                raise entry._error(
                    BAD_VALUE,
                    "unique_persona_id",
                    f"expected {item_id}_{persona['id']} (item id _ persona ID), found {unique!r}",
                )
            personas.append(persona)
            summaries.append((entry.text("Item_Summary"), entry.origin()))

        def commit() -> None:
            for summary, origin in summaries:
                self.add_summary(item_id, summary, origin)
            self.add_personas(item_id, personas, rec.origin())

        return commit

    def parse_history(self, rec: _Fields, full: bool):
        user_id = rec.id("user_id")
        entries = []
        for entry in rec.nested_list("reviews"):
            entry_user = entry.id("user_id")
            if entry_user != user_id:
                raise entry._error(BAD_VALUE, "user_id", f"history of {user_id!r} holds a review by {entry_user!r}")
            obs = ReviewObs(
                user_id=user_id,
                item_id=entry.id("item_id"),
                rating=entry.number("rating", required=False),
                timestamp=entry.time_ms("timestamp"),
                title=entry.text("review_title"),
                aspects=_aspects(entry, "extracted", self.dialects),
                origin=entry.origin(),
            )
            entries.append((obs, entry.text("summary"), entry.origin()))

        def commit() -> None:
            if full and user_id not in self.art.history_users:
                self.art.history_users.append(user_id)
            for obs, summary, origin in entries:
                self.add_review(obs)
                self.add_summary(obs.item_id, summary, origin)

        return commit

    def parse_gt(self, rec: _Fields):
        user_id, item_id = rec.id("user_id"), rec.id("item_id")
        return lambda: self.art.held_out.__setitem__(user_id, item_id)

    def parse_selection(self, rec: _Fields):
        persona = _persona(rec.nested("selected_persona"))
        persona_id = rec.text("selected_persona_id", required=True)
        if persona_id != persona["id"]:
            raise rec._error(
                BAD_VALUE, "selected_persona_id", f"{persona_id!r} differs from selected_persona.ID {persona['id']!r}"
            )
        selection = {
            "user_id": rec.id("user_id"),
            "item_id": rec.id("target_item_id"),
            "persona": persona,
            "justification": rec.text("selection_reasoning", required=True),
            "origin": rec.origin(),
        }
        return lambda: self.art.selections.append(selection)

    def read_all(self) -> AuthorsArtifacts:
        self.each("1_aspects", self.parse_aspects)
        self.each("2_summary", self.parse_summary)
        self.each("2.5_grouped", self.parse_grouped)
        self.each("3_personas", self.parse_personas)
        self.each("3.5_persona_with_summary", self.parse_persona_with_summary)
        self.each("3.5_history", lambda rec: self.parse_history(rec, True))
        self.each("3.5_history_loo", lambda rec: self.parse_history(rec, False))
        self.each("3.5_gt", self.parse_gt)
        self.each("4_selected_personas", self.parse_selection)
        return self.finish()

    def finish(self) -> AuthorsArtifacts:
        if not self.art.inputs:
            raise InputError(
                f"no authors' artifact file found (expected some of {', '.join(FILES)} as .jsonl or .jsonl.gz)",
                path=self.folder,
            )
        if len(self.dialects) > 1:
            raise InputError(
                "the folder mixes amazon and yelp aspect keys; import one domain's folder at a time", path=self.folder
            )
        self.art.dialect = next(iter(self.dialects), "amazon")
        selections = {(s["user_id"], s["item_id"]): s for s in self.art.selections}  # a repeated judgement: last wins
        duplicate_selections = len(self.art.selections) - len(selections)
        self.art.selections = list(selections.values())
        complete(self.art)
        self.art.report = {
            "format": "authors",
            "dialect": self.art.dialect,
            "files": self.files,
            "duplicate_reviews_replaced": self.duplicate_reviews,
            "duplicate_selections_replaced": duplicate_selections,
            "conflicts": self.conflicts,
            "bad_lines_skipped": sum(f["bad_lines"]["skipped"] for f in self.files.values() if f),
        }
        return self.art


def complete(art: AuthorsArtifacts) -> None:
    """Fill what the files may omit with the rule the writer would use, so import -> export -> import
    is stable: a review id for reviews seen only in histories (amazon: the next integer after the
    largest id; yelp: "p4r-N"), and the review count of items known only from their personas
    (the number of the item's reviews present)."""
    missing = sorted(
        (r for r in art.reviews.values() if r.review_id is None), key=lambda r: (r.timestamp, r.user_id, r.item_id)
    )
    next_id = 1 + max(
        (int(r.review_id) for r in art.reviews.values() if r.review_id and r.review_id.isdigit()), default=0
    )
    for n, review in enumerate(missing, start=next_id):
        review.review_id = str(n) if art.dialect == "amazon" else f"p4r-{n}"
    counts: dict[str, int] = {}
    for _, item_id in art.reviews:
        counts[item_id] = counts.get(item_id, 0) + 1
    for item_id in art.personas:
        item = art.items.setdefault(item_id, {"title": "", "description": "", "review_count": None})
        if item.get("review_count") is None:
            item["review_count"] = counts.get(item_id, 0)


def find_file(folder: Path, name: str) -> Path | None:
    for suffix in (".jsonl", ".jsonl.gz", ".json", ".json.gz"):
        path = folder / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def read_authors_dir(folder: str | Path, *, skip_bad_lines: bool = False) -> AuthorsArtifacts:
    """Read every artifact file present in `folder` (one domain). Bad lines raise InputError (file,
    line, field) unless `skip_bad_lines`, which counts them in the report instead."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a folder of the authors' artifact files", path=folder)
    return _Reader(folder, skip_bad_lines).read_all()


# -- writing ---------------------------------------------------------------------------------------


def _time_out(ms: int, dialect: str) -> int | str:
    if dialect == "yelp":
        return _dt.datetime.fromtimestamp(ms / 1000, _dt.UTC).strftime(YELP_TIME_FORMAT)
    return int(ms)


def _review_id_out(review_id: str, dialect: str) -> int | str:
    if dialect == "amazon" and review_id.isdigit():
        return int(review_id)
    return review_id


def _aspects_out(aspects: dict[str, str | None] | None, dialect: str) -> dict[str, str | None] | None:
    if aspects is None:
        return None
    return {theirs: aspects.get(ours) for theirs, ours in ASPECT_KEYS[dialect].items()}


def _persona_out(persona: dict[str, str]) -> dict[str, str]:
    return {theirs: persona[ours] for theirs, ours in PERSONA_KEYS.items()}


class _Writer:
    def __init__(self, art: AuthorsArtifacts, dialect: str):
        if dialect not in DIALECTS:
            raise InputError(f"unknown dialect {dialect!r} (known: {', '.join(DIALECTS)})", field="dialect")
        complete(art)
        self.art = art
        self.dialect = dialect

    def aspect_line(self, r: ReviewObs) -> dict[str, Any]:
        line: dict[str, Any] = {
            "review_id": _review_id_out(r.review_id, self.dialect),
            "item_id": r.item_id,
            "user_id": r.user_id,
            "rating": r.rating,
            "timestamp": _time_out(r.timestamp, self.dialect),
        }
        if self.dialect == "amazon":
            line["review_title"] = r.title or ""
        line["review_text"] = r.text or ""
        line["extracted_aspects"] = _aspects_out(r.aspects, self.dialect)
        return line

    def item_head(self, item_id: str) -> dict[str, Any]:
        item = self.art.items.get(item_id, {})
        return {
            "item_id": item_id,
            "item_title": item.get("title", ""),
            "item_description": item.get("description", ""),
            "item_summary": self.art.summaries[item_id][0] if item_id in self.art.summaries else "",
        }

    def review_count(self, item_id: str) -> int:
        return int(self.art.items[item_id]["review_count"])  # complete() filled it for every persona item

    def history_entry(self, r: ReviewObs) -> dict[str, Any]:
        return {
            "user_id": r.user_id,
            "item_id": r.item_id,
            "review_title": r.title or "",
            "summary": self.art.summaries[r.item_id][0] if r.item_id in self.art.summaries else "",
            "extracted": _aspects_out(r.aspects, self.dialect),
            "timestamp": _time_out(r.timestamp, self.dialect),
            "rating": r.rating,
        }

    def lines(self) -> dict[str, list[dict[str, Any]]]:
        art = self.art
        by_item: dict[str, list[ReviewObs]] = {}
        by_user: dict[str, list[ReviewObs]] = {}
        for r in sorted(art.reviews.values(), key=lambda r: (r.timestamp, r.item_id)):
            by_user.setdefault(r.user_id, []).append(r)
            if r.aspects is not None:
                by_item.setdefault(r.item_id, []).append(r)
        out: dict[str, list[dict[str, Any]]] = {name: [] for name in FILES}
        # every review, so that its text travels; "extracted_aspects": null where none was extracted
        out["1_aspects"] = [self.aspect_line(r) for r in art.reviews.values()]
        out["2_summary"] = [self.item_head(i) for i in art.summaries]
        out["2.5_grouped"] = [
            {**self.item_head(i), "aspects": [self.aspect_line(r) for r in by_item[i]], "aspect_count": len(by_item[i])}
            for i in art.summaries
            if i in by_item
        ]
        for item_id, (personas, _) in art.personas.items():
            out["3_personas"].append(
                {
                    **self.item_head(item_id),
                    "review_count": self.review_count(item_id),
                    "personas": [_persona_out(p) for p in personas],
                    "persona_count": len(personas),
                }
            )
            summary = self.item_head(item_id)["item_summary"]
            out["3.5_persona_with_summary"].append(
                {
                    "item_id": item_id,
                    "personas": [
                        {**_persona_out(p), "Item_Summary": summary, "unique_persona_id": f"{item_id}_{p['id']}"}
                        for p in personas
                    ],
                }
            )
        for user_id, reviews in by_user.items():
            out["3.5_history"].append({"user_id": user_id, "reviews": [self.history_entry(r) for r in reviews]})
            held = art.held_out.get(user_id)
            if held is not None:
                out["3.5_history_loo"].append(
                    {"user_id": user_id, "reviews": [self.history_entry(r) for r in reviews if r.item_id != held]}
                )
                out["3.5_gt"].append({"user_id": user_id, "item_id": held})
        for sel in art.selections:
            out["4_selected_personas"].append(
                {
                    "user_id": sel["user_id"],
                    "target_item_id": sel["item_id"],
                    "selected_persona_id": sel["persona"]["id"],
                    "selected_persona_name": sel["persona"]["name"],
                    "selected_persona": _persona_out(sel["persona"]),
                    "selection_reasoning": sel["justification"],
                }
            )
        return out


def write_authors_dir(
    art: AuthorsArtifacts, out: str | Path, *, dialect: str | None = None, gzip_files: bool = False
) -> dict[str, int]:
    """Write `art` as the authors' nine files in `out` (each atomically); returns lines per file.

    Users get a history line each; users with a held-out item also get 3.5_history_loo and 3.5_gt lines.
    """
    import gzip

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, lines in _Writer(art, dialect or art.dialect).lines().items():
        path = out / f"{name}.jsonl{'.gz' if gzip_files else ''}"
        with atomic_path(path) as tmp:
            opener = gzip.open(tmp, "wt", encoding="utf-8") if gzip_files else open(tmp, "w", encoding="utf-8")
            with opener as fh:
                for line in lines:
                    fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        counts[name] = len(lines)
    return counts
