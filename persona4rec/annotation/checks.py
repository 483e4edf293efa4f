"""Attention checks: examples with a known answer, mixed into each annotator's queue.

A check shows a real example's item, history and one of its explanations (the right answer, stored as
explanation_a) beside a *decoy*: an explanation written for a different item of the same study (stored as
explanation_b, system DECOY_SYSTEM). An attentive annotator prefers the real explanation; the left/right
order is drawn per assignment like any other. Annotators cannot tell checks from real examples.

Scoring: an annotator *passes* a check when more of its criteria name the real explanation than the
decoy (ties count for neither). Their check score is the share of their rated checks they passed, and
they are *flagged* when it is below the study's pass mark. Check ratings never enter the results.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import InputError

if TYPE_CHECKING:
    from .study import ExampleInput

DECOY_SYSTEM = "attention_check_decoy"  # the reserved system of every check's decoy explanation


def checks_needed(real_examples: int, share: float) -> int:
    """How many distinct checks a study needs so that an annotator who rates every real example still meets
    a fresh check at the given share of their queue."""
    if share <= 0:
        return 0
    return max(1, math.ceil(real_examples * share / (1 - share)))


def attention_checks(examples: Sequence[ExampleInput], n: int, seed: int = 0) -> list[ExampleInput]:
    """`n` check examples built from `examples` (seeded): each keeps one example's item, history and
    explanation_a, and takes as decoy the explanation_a of an example about a different item."""
    items = {e.item_id for e in examples}
    if n and len(items) < 2:
        raise InputError("attention checks need examples about at least two different items", field="check_share")
    rng = random.Random(seed)
    order = list(range(len(examples)))
    rng.shuffle(order)
    checks: list[ExampleInput] = []
    for k in range(n):
        shown = examples[order[k % len(order)]]
        others = [e for e in examples if e.item_id != shown.item_id]
        decoy = others[rng.randrange(len(others))]
        checks.append(
            replace(
                shown,
                explanation_b=decoy.explanation_a,
                system_b=DECOY_SYSTEM,
                system_a=shown.system_a,
                is_check=True,
            )
        )
    return checks


def check_passed(genuine_votes: int, decoy_votes: int) -> bool:
    """The pass rule of one check (module docstring): the real explanation named on more criteria."""
    return genuine_votes > decoy_votes
