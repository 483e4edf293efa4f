"""Benchmark persona vectors with the structure of a real index: a model fitted to a workspace's persona
vectors, sampled at any size (10^5-10^7), because random unit vectors, HNSW's and IVF's worst case, measure
nothing a user will meet.

The fit (on the L2-normalised persona vectors x_{j,k} of real items j, n_j personas each):

    m_j      = mean_k x_{j,k}                  the item centre;  mu = mean_j m_j
    Sigma_b  = cov_j(m_j)                      between-item spread (its principal directions)
    Sigma_w  = sum_{j,k} r r^T / sum_j (n_j - 1),  r = x_{j,k} - m_j    pooled within-item spread
    R_j      = mean_k |x_{j,k} - m_j|^2        item j's own within-item spread

A synthetic item is a smoothed bootstrap of a real one (its parent j, drawn uniformly):

    n' = n_j personas
    m' = mu + o,   o = a (m_j - mu) + h z,  z ~ N(0, Sigma_b),  a = sqrt(1 - h^2),  o rescaled to |m_j - mu|
    x'_k = normalise(m' + s (e_k - mean(e))),  e_k ~ N(0, Sigma_w),  s such that mean_k |s (e_k - mean e)|^2 = R_j

so every synthetic item keeps its parent's persona count, its distance from the catalogue mean and its
within-item spread (which is what the within-item cosine depends on: for unit vectors it is
(n |m|^2 - 1) / (n - 1)), while its directions are new ones drawn from the real principal directions, not
random ones; cov(o) stays Sigma_b as a^2 + h^2 = 1. h = 0.5: a child keeps three quarters of its parent's
offset, so the catalogue clusters around real topics as real catalogues do around their categories.
The covariances are sampled through their eigendecomposition (cost n x d x d).

`spread` measures what the fit must reproduce: the mean cosine between two personas of one item, between
personas of two different items, of a persona to its item centre, and the share of variance in the top 10
principal directions (random unit vectors in 384-d give about 0.03).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

BANDWIDTH = 0.5  # h above


@dataclass
class PersonaModel:
    mean: np.ndarray  # (d,) mu
    offsets: np.ndarray  # (J, d) the real item centres minus mu
    spreads: np.ndarray  # (J,) R_j, the real items' mean squared residual norm
    counts: np.ndarray  # (J,) personas per real item
    between: np.ndarray  # (r, d) sqrt(eigenvalue) * eigenvector rows of Sigma_b
    within: np.ndarray  # (r, d) the same for Sigma_w
    bandwidth: float = BANDWIDTH

    @property
    def dim(self) -> int:
        return self.mean.shape[0]

    def sample(self, n_personas: int, seed: int = 0, chunk: int = 100_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(vectors (m, d) float32 unit rows, item ids (m,) int64) in chunks of about `chunk` personas,
        n_personas in all; item ids run 0, 1, ... over the whole sample, an item never split over chunks."""
        rng = np.random.default_rng(seed)
        done, next_item = 0, 0
        while done < n_personas:
            parents = self._parents(rng, min(chunk, n_personas - done))
            counts = self.counts[parents].copy()
            counts[-1] -= max(0, int(counts.sum()) - (n_personas - done))  # the last item takes what is left
            vectors = self._personas(rng, parents, counts)
            yield vectors, np.repeat(np.arange(next_item, next_item + len(counts), dtype=np.int64), counts)
            done += int(counts.sum())
            next_item += len(counts)

    def sample_all(self, n_personas: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The whole sample in one array (n_personas x d float32)."""
        vectors = np.empty((n_personas, self.dim), dtype=np.float32)
        items = np.empty(n_personas, dtype=np.int64)
        at = 0
        for block, ids in self.sample(n_personas, seed):
            vectors[at : at + len(block)], items[at : at + len(block)] = block, ids
            at += len(block)
        return vectors, items

    def _parents(self, rng: np.random.Generator, n_personas: int) -> np.ndarray:
        """Parents (uniform over the real items) whose persona counts reach n_personas."""
        draws = rng.integers(0, len(self.counts), size=int(n_personas / self.counts.mean() * 1.2) + 16)
        total = np.cumsum(self.counts[draws])
        while total[-1] < n_personas:  # a rare short draw
            draws = np.concatenate([draws, rng.integers(0, len(self.counts), size=len(draws))])
            total = np.cumsum(self.counts[draws])
        return draws[: int(np.searchsorted(total, n_personas)) + 1]

    def _personas(self, rng: np.random.Generator, parents: np.ndarray, counts: np.ndarray) -> np.ndarray:
        h = self.bandwidth
        offsets = self.offsets[parents] * np.float32(np.sqrt(1.0 - h * h))
        offsets += np.float32(h) * (
            rng.standard_normal((len(parents), len(self.between)), dtype=np.float32) @ self.between
        )
        offsets *= (np.linalg.norm(self.offsets[parents], axis=1) / np.linalg.norm(offsets, axis=1))[:, None]
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        vectors = np.empty((int(counts.sum()), self.dim), dtype=np.float32)
        for count in np.unique(counts):  # items of one persona count at a time: residuals as (items, count, d)
            items = np.flatnonzero(counts == count)
            noise = rng.standard_normal((len(items) * count, len(self.within)), dtype=np.float32) @ self.within
            noise = noise.reshape(len(items), count, self.dim)
            noise -= noise.mean(axis=1, keepdims=True)
            energy = np.einsum("icd,icd->i", noise, noise) / count
            scale = np.sqrt(
                np.divide(self.spreads[parents[items]], energy, out=np.zeros_like(energy), where=energy > 0)
            )
            block = self.mean + offsets[items][:, None, :] + noise * scale[:, None, None]
            block /= np.linalg.norm(block, axis=2, keepdims=True)
            vectors[starts[items][:, None] + np.arange(count)] = block
        return vectors


def fit_persona_model(vectors: np.ndarray, item_ids: Sequence, bandwidth: float = BANDWIDTH) -> PersonaModel:
    """Fit the model to an index's vectors (n, d) and the item of each row."""
    vectors = _unit(np.asarray(vectors, dtype=np.float64))
    codes, item_of = np.unique(np.asarray(item_ids), return_inverse=True)
    if len(codes) < 2:
        raise ValueError("fitting persona vectors needs at least two items")
    counts = np.bincount(item_of)
    centres = np.zeros((len(codes), vectors.shape[1]))
    np.add.at(centres, item_of, vectors)
    centres /= counts[:, None]
    residuals = vectors - centres[item_of]
    energy = np.bincount(item_of, weights=np.einsum("nd,nd->n", residuals, residuals)) / counts
    within = residuals.T @ residuals / max(1, int((counts - 1).sum()))
    mean = centres.mean(axis=0)
    return PersonaModel(
        mean=mean.astype(np.float32),
        offsets=(centres - mean).astype(np.float32),
        spreads=energy.astype(np.float32),
        counts=counts,
        between=_root(np.cov(centres, rowvar=False)),
        within=_root(within),
        bandwidth=bandwidth,
    )


def spread(vectors: np.ndarray, item_ids: Sequence, pairs: int = 20_000, seed: int = 0) -> dict[str, float]:
    """The statistics the model reproduces (see the module doc), on at most `pairs` sampled pairs."""
    rng = np.random.default_rng(seed)
    vectors = _unit(np.asarray(vectors, dtype=np.float64))
    _, item_of = np.unique(np.asarray(item_ids), return_inverse=True)
    counts = np.bincount(item_of)
    order = np.argsort(item_of, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    multi = np.flatnonzero(counts >= 2)
    within = np.full(1, np.nan)  # no item with two personas: no within-item pair
    if len(multi):  # two distinct personas of one item (items drawn in proportion to their pairs' count)
        weights = counts[multi] * (counts[multi] - 1)
        items = rng.choice(multi, size=pairs, p=weights / weights.sum())
        first = rng.integers(0, counts[items])
        second = (first + rng.integers(1, counts[items])) % counts[items]
        a, b = order[starts[items] + first], order[starts[items] + second]
        within = np.einsum("nd,nd->n", vectors[a], vectors[b])
    # between: two personas of different items
    a, b = rng.integers(0, len(vectors), size=(2, pairs))
    keep = item_of[a] != item_of[b]
    between = np.einsum("nd,nd->n", vectors[a[keep]], vectors[b[keep]])
    centres = np.zeros((len(counts), vectors.shape[1]))
    np.add.at(centres, item_of, vectors)
    centres = _unit(centres)
    to_centre = np.einsum("nd,nd->n", vectors, centres[item_of])[counts[item_of] >= 2]
    sample = vectors[rng.choice(len(vectors), size=min(len(vectors), 20_000), replace=False)]
    eigen = np.linalg.eigvalsh(np.cov(sample, rowvar=False))[::-1]
    return {
        "within_item_cosine": _mean(within),  # None when no item has two personas
        "between_item_cosine": _mean(between),
        "persona_to_centre_cosine": _mean(to_centre),
        "top10_variance_share": float(eigen[:10].sum() / eigen.sum()),
        "personas_per_item": float(counts.mean()),
    }


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) and not np.isnan(values).all() else None


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def _root(covariance: np.ndarray) -> np.ndarray:
    """Rows R with R^T R = covariance (the positive eigen-directions scaled by sqrt of their eigenvalue):
    z @ R with z ~ N(0, I) is then N(0, covariance)."""
    values, vectors = np.linalg.eigh(covariance)
    keep = values > values.max() * 1e-9
    return (np.sqrt(values[keep])[:, None] * vectors[:, keep].T).astype(np.float32)
