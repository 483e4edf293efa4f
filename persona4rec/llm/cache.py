"""The response cache: every answered LLM request, in SQLite inside the workspace.

Key: sha256 of (model, the full messages, the sampling parameters, the response format and schema), so
a changed prompt, model or parameter is a new request and an unchanged one is never paid for twice.
Value: the raw answer text and the server-reported usage. Each answer is committed the moment it
arrives (WAL journal, one short transaction per answer), so killing the process loses only requests
still in flight. Safe to share between the client's worker threads.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key               TEXT PRIMARY KEY,
    model             TEXT NOT NULL,
    raw               TEXT NOT NULL,
    prompt_tokens     INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    created           REAL NOT NULL
)
"""


def request_key(model: str, messages: list[dict], params: dict[str, Any], response_format: dict | None) -> str:
    payload = {"model": model, "messages": messages, "params": params, "response_format": response_format}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class CachedResponse:
    raw: str
    prompt_tokens: int
    completion_tokens: int


class ResponseCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None  # opened on first use: a dry run creates no file

    def _db(self) -> sqlite3.Connection:  # call with self._lock held
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses no commit
            self._conn.execute(_SCHEMA)
        return self._conn

    def get(self, key: str) -> CachedResponse | None:
        with self._lock:
            row = (
                self._db()
                .execute("SELECT raw, prompt_tokens, completion_tokens FROM responses WHERE key = ?", (key,))
                .fetchone()
            )
        return CachedResponse(*row) if row else None

    def put(self, key: str, model: str, raw: str, prompt_tokens: int, completion_tokens: int) -> None:
        with self._lock:
            self._db().execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?)",
                (key, model, raw, int(prompt_tokens), int(completion_tokens), time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            return self._db().execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
