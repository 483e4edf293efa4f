"""The two criteria sets of the pairwise human study, as data: name plus a one-line definition for help text.

The names are the paper's (explanation quality: Intuitiveness, Relatability, Consistency, Persuasiveness,
Specificity; persona quality: Faithfulness, Clarity, Coverage, Interpretability, Representativeness).
The paper's own wording of each definition could not be retrieved here, so the one-liners below are ours,
written to match how the paper uses each term (an explanation is shown for one recommended item, given the
user's history; a persona is judged against the item's reviews).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError


@dataclass(frozen=True)
class Criterion:
    key: str  # stable identifier stored in the database (lower case)
    name: str  # shown to annotators
    definition: str  # one line of help text


EXPLANATION_CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "intuitiveness",
        "Intuitiveness",
        "Which explanation makes it easier to see at a glance why this item was recommended?",
    ),
    Criterion(
        "relatability",
        "Relatability",
        "Which explanation describes a kind of person this user could recognise themselves in, given their history?",
    ),
    Criterion(
        "consistency",
        "Consistency",
        "Which explanation agrees better with the user's history and with what the item actually is, "
        "without contradicting either?",
    ),
    Criterion(
        "persuasiveness",
        "Persuasiveness",
        "Which explanation would more convince this user to try the recommended item?",
    ),
    Criterion(
        "specificity",
        "Specificity",
        "Which explanation gives concrete reasons tied to this item and this user rather than "
        "generic praise that would fit any item?",
    ),
)

PERSONA_CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "faithfulness",
        "Faithfulness",
        "Which persona set is better supported by the item's reviews, claiming nothing the reviews do not say?",
    ),
    Criterion("clarity", "Clarity", "Which persona set is easier to read and understand, each persona clearly stated?"),
    Criterion(
        "coverage",
        "Coverage",
        "Which persona set captures more of the distinct reasons people gave for choosing this item, "
        "minority and critical voices included?",
    ),
    Criterion(
        "interpretability",
        "Interpretability",
        "Which persona set makes it easier to tell what type of user each persona stands for and how "
        "the personas differ?",
    ),
    Criterion(
        "representativeness",
        "Representativeness",
        "Which persona set better reflects the actual mix of reviewers of this item, in proportion, "
        "without inventing or over-weighting rare types?",
    ),
)

CRITERIA_SETS: dict[str, tuple[Criterion, ...]] = {
    "explanation": EXPLANATION_CRITERIA,
    "persona": PERSONA_CRITERIA,
}

# What an annotator may answer for each criterion: the explanation shown as A (left), as B (right), or a tie.
CHOICES: tuple[str, ...] = ("A", "B", "tie")


def criteria_for(criteria_set: str) -> tuple[Criterion, ...]:
    """The criteria of a set by its name ("explanation" or "persona"); InputError for anything else."""
    try:
        return CRITERIA_SETS[criteria_set]
    except KeyError:
        raise InputError(
            f"unknown criteria set {criteria_set!r} (known: {', '.join(CRITERIA_SETS)})", field="criteria_set"
        ) from None


def criterion_keys(criteria_set: str) -> list[str]:
    return [c.key for c in criteria_for(criteria_set)]
