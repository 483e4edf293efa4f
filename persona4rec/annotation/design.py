"""Which pair of systems each example of a study compares.

With two systems every example compares them. With N systems there are N(N-1)/2 pairs; examples are dealt
to the pairs in rounds, each round visiting every pair once in a seeded order, so every pair gets the same
number of examples (within one when the count does not divide). Every other round swaps A and B, so over
each two rounds every system is an example's "system A" as often as its "system B"; two systems keep the
order given (which side an annotator sees each on is drawn per assignment anyway, study.left_is_a_for).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from .study import ExampleInput


@dataclass(frozen=True)
class SystemsExample:
    """One recommendation with the explanation of every system that explains it (before pairing)."""

    user_id: str
    item_id: str
    explanations: dict[str, str]  # system -> its explanation
    history: list[dict[str, Any]] = field(default_factory=list)
    item_title: str = ""
    workspace: str = ""


def system_pairs(systems: Sequence[str]) -> list[tuple[str, str]]:
    """Every unordered pair of distinct systems, in the order the systems are given."""
    names = list(systems)
    if len(names) < 2:
        raise InputError("a study compares at least two systems", field="systems")
    if len(set(names)) != len(names):
        raise InputError(f"systems are listed twice: {', '.join(sorted(_repeated(names)))}", field="systems")
    return list(itertools.combinations(names, 2))


def balanced_pairs(n_examples: int, systems: Sequence[str], seed: int = 0) -> list[tuple[str, str]]:
    """The (system A, system B) pair of each of `n_examples` examples: pairs dealt in seeded rounds (see the
    module docstring); alternate rounds swap A and B so the roles balance too."""
    pairs = system_pairs(systems)
    rng = random.Random(seed)
    dealt: list[tuple[str, str]] = []
    round_number = 0
    while len(dealt) < n_examples:
        order = list(pairs)
        rng.shuffle(order)
        if round_number % 2 and len(pairs) > 1:
            order = [(b, a) for a, b in order]
        dealt.extend(order[: n_examples - len(dealt)])
        round_number += 1
    return dealt


def _repeated(names: Sequence[str]) -> set[str]:
    seen: set[str] = set()
    return {n for n in names if n in seen or seen.add(n)}


def paired_examples(
    examples: Sequence[SystemsExample], systems: Sequence[str], seed: int = 0
) -> tuple[list[ExampleInput], int]:
    """(the study examples, how many were left out): each example that has an explanation from every one
    of `systems` gets its pair from balanced_pairs and keeps that pair's two explanations; an example
    missing a system is left out (a pair dealt to it could not be shown)."""
    complete = [e for e in examples if all((e.explanations.get(s) or "").strip() for s in systems)]
    pairs = balanced_pairs(len(complete), systems, seed)
    paired = [
        ExampleInput(
            user_id=e.user_id,
            item_id=e.item_id,
            explanation_a=e.explanations[a],
            explanation_b=e.explanations[b],
            history=list(e.history),
            item_title=e.item_title,
            workspace=e.workspace,
            system_a=a,
            system_b=b,
        )
        for e, (a, b) in zip(complete, pairs)
    ]
    return paired, len(examples) - len(complete)
