"""User embeddings: a decay-weighted mean of the user's last L interaction embeddings.

    e_u = normalise( sum_l gamma^(l-1) * E(x_l) )    l = 1 for the most recent interaction

Interaction embeddings E(x) are computed once per encoder and cached on disk under
index/interactions<slot>.npy (+ .keys.parquet, .json), so embedding a user online is a weighted sum of
a few cached rows, with no model call. The cache is invalidated whole when the encoder identity changes,
and per interaction when that interaction's text changed (e.g. its aspects were re-extracted).
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from ..data.schema import review_key
from ..data.split import HISTORY_LENGTH
from ..embedding import decay_weights, decayed_sum
from ..errors import ConfigError
from ..io import atomic_path, read_json, write_json, write_parquet
from ..workspace import Workspace
from .selection import EncoderChoice, choose_encoder
from .timeline import Timelines, check_history_split, interaction_texts

log = logging.getLogger(__name__)
DEFAULT_GAMMA = 0.9


def weighted_user_vector(vectors: np.ndarray, gamma: float) -> np.ndarray:
    """Decay-weighted mean of interaction vectors (oldest first), L2-normalised; zeros when empty."""
    if len(vectors) == 0:
        return np.zeros(vectors.shape[1] if vectors.ndim == 2 else 0, dtype=np.float32)
    vec = decayed_sum(vectors, gamma)
    norm = float(np.linalg.norm(vec))
    return (vec / norm).astype(np.float32) if norm > 0 else vec.astype(np.float32)


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


class InteractionCache:
    """Interaction vectors by review key, on disk beside the index, for one encoder slot."""

    def __init__(self, ws: Workspace, choice: EncoderChoice):
        base = ws.index_dir / f"interactions{choice.slot}"
        self.vectors_path = base.with_suffix(".npy")
        self.keys_path = base.with_suffix(".keys.parquet")
        self.meta_path = base.with_suffix(".json")
        self.choice = choice
        self.keys: list[str] = []
        self.hashes: list[str] = []
        self.vectors = np.zeros((0, 0), dtype=np.float32)

    def _load(self, identity: str) -> bool:
        import pandas as pd

        if not (self.meta_path.exists() and self.vectors_path.exists() and self.keys_path.exists()):
            return False
        meta = read_json(self.meta_path)
        if meta.get("encoder_identity") != identity:
            log.info("interaction cache %s was made by another encoder: rebuilding", self.vectors_path)
            return False
        keys = pd.read_parquet(self.keys_path)
        vectors = np.load(self.vectors_path)
        if len(keys) != len(vectors) or meta.get("count") != len(vectors):
            return False  # files from two different runs (a crash between writes): start over
        self.keys, self.hashes, self.vectors = keys["key"].tolist(), keys["text_hash"].tolist(), vectors
        return True

    def sync(self, texts: dict[str, str], encode_fn: Callable[[list[str]], np.ndarray]) -> int:
        """Make the cache hold exactly `texts` (key -> text); encode only new or changed ones.
        Returns how many were encoded."""

        identity = self.choice.identity()
        self._load(identity)
        old = {k: (h, row) for row, (k, h) in enumerate(zip(self.keys, self.hashes))}
        keys = list(texts)
        hashes = [text_hash(texts[k]) for k in keys]
        todo = [n for n, (k, h) in enumerate(zip(keys, hashes)) if old.get(k, (None,))[0] != h]
        if not todo and len(keys) == len(self.keys):
            self.keys, self.hashes = keys, hashes
            self.vectors = self.vectors[[old[k][1] for k in keys]] if keys else self.vectors
            return 0
        fresh = encode_fn([texts[keys[n]] for n in todo]) if todo else None
        dim = fresh.shape[1] if fresh is not None else self.vectors.shape[1]
        vectors = np.zeros((len(keys), dim), dtype=np.float32)
        todo_set = set(todo)
        reuse = [n for n in range(len(keys)) if n not in todo_set]
        if reuse:
            vectors[reuse] = self.vectors[[old[keys[n]][1] for n in reuse]]
        if todo:
            vectors[todo] = fresh
        self.keys, self.hashes, self.vectors = keys, hashes, vectors
        self._save(identity)
        return len(todo)

    def _save(self, identity: str) -> None:
        import pandas as pd

        with atomic_path(self.vectors_path) as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, self.vectors)
        write_parquet(self.keys_path, pd.DataFrame({"key": self.keys, "text_hash": self.hashes}))
        write_json(
            self.meta_path,
            {
                "encoder": self.choice.describe(),
                "encoder_identity": identity,
                "count": len(self.keys),
                "dim": int(self.vectors.shape[1]),
            },
        )

    def row_of(self) -> dict[str, int]:
        return {k: n for n, k in enumerate(self.keys)}


def interaction_rows(key_rows: dict[str, int], user_id: str, items: Sequence[str]) -> list[int]:
    """The interaction cache's rows of the user's interactions with `items`, in order (ones without a
    cached vector left out)."""
    return [key_rows[k] for k in (review_key(user_id, i) for i in items) if k in key_rows]


@dataclass(frozen=True)
class SplitHistories:
    """Every user's history for one target split as rows of the interaction cache: `rows[i, -n:]` (oldest
    first, right-aligned) for the user at `index[user]`, n = `lengths[i]`. The last row is empty and
    stands for a user who is not in the workspace."""

    index: dict[str, int]
    rows: np.ndarray  # (users + 1, history length) intp, 0 where there is no interaction
    lengths: np.ndarray  # (users + 1,) intp

    @property
    def missing(self) -> int:
        return len(self.lengths) - 1

    def of(self, user_id: str) -> np.ndarray:
        at = self.index.get(user_id, self.missing)
        return self.rows[at, self.rows.shape[1] - self.lengths[at] :]


class HistoryRows:
    """Each user's history as rows of the interaction cache, per target split, looked up for every user
    on the split's first use, so a request indexes one array instead of walking its timeline. The rows
    depend only on the workspace (timelines and the cache's keys): this is part of the index, not a cache
    of results, and the user vectors are still summed per request."""

    def __init__(self, timelines: Timelines, key_rows: dict[str, int], history_length: int):
        self.timelines, self.key_rows, self.history_length = timelines, key_rows, history_length
        self._by_split: dict[str, SplitHistories] = {}

    def _lookup(self, user_id: str, split: str) -> list[int]:
        return interaction_rows(self.key_rows, user_id, self.timelines.history(user_id, split, self.history_length))

    def split(self, split: str) -> SplitHistories:
        found = self._by_split.get(split)
        if found is None:
            check_history_split(split)  # even when there are no users to look up
            users = self.timelines.users()
            rows = np.zeros((len(users) + 1, self.history_length), dtype=np.intp)
            lengths = np.zeros(len(users) + 1, dtype=np.intp)
            for n, user in enumerate(users):
                history = self._lookup(user, split)
                if history:
                    rows[n, self.history_length - len(history) :] = history
                    lengths[n] = len(history)
            found = SplitHistories({u: n for n, u in enumerate(users)}, rows, lengths)
            self._by_split[split] = found
        return found

    def rows(self, user_id: str, split: str) -> np.ndarray:
        return self.split(split).of(user_id)


class UserEncoder:
    """Embeds users from cached interaction vectors. Build once per process with `from_workspace`."""

    def __init__(
        self,
        timelines: Timelines,
        vectors: np.ndarray,
        key_rows: dict[str, int],
        gamma: float = DEFAULT_GAMMA,
        history_length: int = HISTORY_LENGTH,
        history: HistoryRows | None = None,
    ):
        decay_weights(1, gamma)  # validates gamma
        if history_length < 1:
            raise ConfigError(f"history length must be at least 1, got {history_length}")
        self.timelines, self.vectors, self.key_rows = timelines, vectors, key_rows
        self.gamma, self.history_length = gamma, history_length
        self.dim = int(vectors.shape[1]) if vectors.ndim == 2 and vectors.shape[1] else 0
        # decay_weights(n, gamma) for every history length, computed once: an online request then only sums
        self._weights = [decay_weights(n, gamma) for n in range(history_length + 1)]
        self.history = history or HistoryRows(timelines, key_rows, history_length)

    @classmethod
    def from_workspace(
        cls,
        ws: Workspace,
        encoder: str | None = None,
        gamma: float = DEFAULT_GAMMA,
        history_length: int = HISTORY_LENGTH,
        timelines: Timelines | None = None,
        progress: bool = False,
    ) -> UserEncoder:
        from ..embedding import QUERY, encode

        choice = encoder if isinstance(encoder, EncoderChoice) else choose_encoder(ws, encoder)
        timelines = timelines or Timelines.from_workspace(ws)
        texts = interaction_texts(ws, timelines.history_pairs())
        cache = InteractionCache(ws, choice)
        encoded = cache.sync(texts, lambda batch: encode(batch, choice.model, show_progress=progress, role=QUERY))
        if encoded:
            log.info("encoded %d interaction texts with %s", encoded, choice.describe())
        return cls(timelines, cache.vectors, cache.row_of(), gamma, history_length)

    def with_gamma(self, gamma: float) -> UserEncoder:
        """The same cached vectors under another decay (for tuning gamma without re-encoding)."""
        return UserEncoder(self.timelines, self.vectors, self.key_rows, gamma, self.history_length, self.history)

    def history_rows(self, user_id: str, split: str = "test") -> np.ndarray:
        """The cached-vector rows of the user's last interactions a `split` target may see, oldest first."""
        return self.history.rows(user_id, split)

    def embed(self, user_id: str, split: str = "test") -> np.ndarray:
        """e_u for a `split` target (zeros for a user with no history: every item then scores 0)."""
        return self.embed_many([user_id], split)[0]

    def _weighted(self, rows: np.ndarray) -> np.ndarray:
        """weighted_user_vector(self.vectors[r], gamma) for each row r of `rows` (users x n), the same
        floats: the stacked product is one gemv per user as in decayed_sum, the stacked (1 x d)(d x 1)
        product one dot per user as in np.linalg.norm, and the square root is taken in float64."""
        sums = self._weights[rows.shape[1]] @ self.vectors.take(rows, axis=0)  # (users, d)
        squares = (sums[:, None, :] @ sums[:, :, None])[:, 0, 0]
        norms = np.sqrt(squares.astype(np.float64)).astype(np.float32)[:, None]
        return np.divide(sums, norms, out=sums, where=norms > 0)

    def _weighted_one(self, rows: np.ndarray) -> np.ndarray:
        """_weighted for one user's rows (n,), the same floats (one gemv, one dot, a float64 root)."""
        vec = self._weights[len(rows)] @ self.vectors.take(rows, axis=0)
        norm = math.sqrt(vec @ vec)
        return vec / norm if norm > 0 else vec

    def embed_before(self, user_id: str, item_id: str) -> np.ndarray:
        """e_u at the time of a TRAIN interaction (its history strictly before it), as training sees it."""
        items = self.timelines.history_before(user_id, item_id, self.history_length)
        rows = interaction_rows(self.key_rows, user_id, items)
        if not rows:
            return np.zeros(self.dim, dtype=np.float32)
        return weighted_user_vector(self.vectors[rows], self.gamma)

    def embed_many(self, user_ids: Sequence[str], split: str = "test") -> np.ndarray:
        """embed for each user, the same floats, summed together for the users of each history length."""
        out = np.zeros((len(user_ids), self.dim), dtype=np.float32)
        histories = self.history.split(split)
        if len(user_ids) == 1:  # a single request: no grouping, and three numpy calls instead of seven
            rows = histories.of(user_ids[0])
            if len(rows):
                out[0] = self._weighted_one(rows)
            return out
        at = np.fromiter(map(histories.index.get, user_ids, repeat(histories.missing)), np.intp, len(user_ids))
        lengths = histories.lengths[at]
        width = histories.rows.shape[1]
        for length in np.unique(lengths).tolist():  # at most history_length + 1 groups
            if length:  # users without history stay zeros, as embed gives
                where = np.flatnonzero(lengths == length)
                out[where] = self._weighted(histories.rows[at[where], width - length :])
        return out
