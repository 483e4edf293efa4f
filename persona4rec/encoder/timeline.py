"""Each user's interactions in time order, the history before a target, and each interaction's text.

Order is (timestamp, item id), the same order the offline profiles use. The history a user embedding
is built from never includes its target or anything later in the split protocol (data/split.py):
    split "train" (a training interaction i): train interactions strictly before i
    split "valid" or "test": the interactions of the splits before it (`earlier_splits`)
"""

from __future__ import annotations

from dataclasses import dataclass

from ..data.schema import review_key
from ..data.split import EARLIER_SPLITS, HISTORY_LENGTH, earlier_splits
from ..data.tables import item_titles
from ..errors import ConfigError, WorkspaceError
from ..offline.records import load_aspects, load_summaries
from ..workspace import Workspace
from .texts import (
    DEFAULT_INTERACTION_TEXT,
    INTERACTION_TEXT_FIELD,
    check_interaction_text,
    interaction_text,
    review_text,
)


@dataclass
class UserTimeline:
    items: list[str]  # oldest first
    splits: list[str]


def check_history_split(split: str) -> None:
    """A ConfigError unless `split` is one whose targets have a history (valid or test)."""
    if split not in EARLIER_SPLITS:
        raise ConfigError(f"split '{split}' is not 'valid' or 'test' (training histories: history_before)")


class Timelines:
    """All users' timelines, read once from data/reviews.parquet and data/split.parquet."""

    def __init__(self, timelines: dict[str, UserTimeline]):
        self.by_user = timelines

    @classmethod
    def from_workspace(cls, ws: Workspace) -> Timelines:
        import pandas as pd

        reviews_path, split_path = ws.data_dir / "reviews.parquet", ws.data_dir / "split.parquet"
        for path in (reviews_path, split_path):
            if not path.exists():
                raise WorkspaceError(f"{path} is missing; import data first (`persona4rec data import ...`)")
        reviews = pd.read_parquet(reviews_path, columns=["user_id", "item_id", "timestamp"])
        split = pd.read_parquet(split_path, columns=["user_id", "item_id", "split"])
        frame = reviews.merge(split, on=["user_id", "item_id"], how="inner")
        frame = frame.astype({"user_id": str, "item_id": str, "split": str})
        frame = frame.sort_values(["user_id", "timestamp", "item_id"], kind="stable")
        timelines: dict[str, UserTimeline] = {}
        for user, items, splits in zip(frame["user_id"], frame["item_id"], frame["split"]):
            line = timelines.get(user)
            if line is None:
                line = timelines[user] = UserTimeline([], [])
            line.items.append(items)
            line.splits.append(splits)
        return cls(timelines)

    def users(self) -> list[str]:
        return list(self.by_user)

    def has_user(self, user_id: str) -> bool:
        return user_id in self.by_user

    def history(self, user_id: str, split: str = "test", length: int = HISTORY_LENGTH) -> list[str]:
        """Item ids of the last `length` interactions a `split` target may see, oldest first."""
        check_history_split(split)
        line = self.by_user.get(user_id)
        if line is None:
            return []
        allowed = earlier_splits(split)
        return [i for i, s in zip(line.items, line.splits) if s in allowed][-length:]

    def history_before(self, user_id: str, item_id: str, length: int = HISTORY_LENGTH) -> list[str]:
        """For a training interaction: the user's train items strictly before it, oldest first."""
        line = self.by_user.get(user_id)
        if line is None:
            return []
        train = [i for i, s in zip(line.items, line.splits) if s == "train"]
        if item_id not in train:
            return []
        return train[: train.index(item_id)][-length:]

    def target(self, user_id: str, split: str) -> str | None:
        line = self.by_user.get(user_id)
        if line is None:
            return None
        return next((i for i, s in zip(line.items, line.splits) if s == split), None)

    def seen(self, user_id: str, split: str = "test") -> set[str]:
        """Items a `split` target's ranking must exclude (everything in the history splits)."""
        line = self.by_user.get(user_id)
        if line is None:
            return set()
        allowed = earlier_splits(split)
        return {i for i, s in zip(line.items, line.splits) if s in allowed}

    def history_pairs(self) -> list[tuple[str, str]]:
        """(user, item) of every interaction that can be history (train and valid), in a stable order."""
        before_test = earlier_splits("test")  # the last target sees every split before it
        return [(u, i) for u, line in self.by_user.items() for i, s in zip(line.items, line.splits) if s in before_test]


def workspace_interaction_text(ws: Workspace) -> str:
    """The workspace's interaction text form (encoder/texts.py): its manifest field, else the default."""
    manifest = ws.manifest() if ws.manifest_path.exists() else {}
    return check_interaction_text(manifest.get(INTERACTION_TEXT_FIELD) or DEFAULT_INTERACTION_TEXT)


def set_interaction_text(ws: Workspace, form: str) -> None:
    """Record the workspace's interaction text form; every slot's interaction cache follows it on next use."""
    ws.update_manifest(**{INTERACTION_TEXT_FIELD: check_interaction_text(form)})


def interaction_texts(ws: Workspace, pairs: list[tuple[str, str]], form: str | None = None) -> dict[str, str]:
    """Text of each interaction (user, item), by review key "user|item", in `form` (None: the workspace's):
    the item summary plus the kept aspects of that user's review ("aspects") or the review itself ("review").

    An item with no summary record falls back to its title from data/items.parquet (then its id)."""
    import pandas as pd

    form = check_interaction_text(form or workspace_interaction_text(ws))
    summaries = {k: r.summary for k, r in load_summaries(ws).items()}
    aspects = load_aspects(ws)
    missing = {item_id for _, item_id in pairs} - set(summaries)
    if missing:
        items = pd.read_parquet(ws.data_dir / "items.parquet", columns=["item_id", "title"])
        titles = item_titles(items)
        summaries.update({i: titles.get(i) or i for i in missing})
    reviews = _review_texts(ws) if form == "review" else None
    texts = {}
    for user_id, item_id in pairs:
        key = review_key(user_id, item_id)
        record = aspects.get(key)
        texts[key] = interaction_text(
            summaries[item_id],
            record.aspects if record is not None and record.kept else None,
            reviews.get(key, "") if reviews is not None else None,
        )
    return texts


def _review_texts(ws: Workspace) -> dict[str, str]:
    """review key -> "title. text" of every review in data/reviews.parquet."""
    import pandas as pd

    from ..offline.text import as_text

    frame = pd.read_parquet(ws.data_dir / "reviews.parquet", columns=["user_id", "item_id", "title", "text"])
    return {
        review_key(str(u), str(i)): review_text(as_text(t), as_text(x))
        for u, i, t, x in zip(frame["user_id"], frame["item_id"], frame["title"], frame["text"])
    }
