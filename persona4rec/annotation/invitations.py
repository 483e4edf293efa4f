"""Personal invitations: one link per annotator per study, so nobody types a name and nobody rates as
someone else.

`invite_annotators` makes (or renews) each named annotator's invitation and returns its token once:
`<invitation id>-<secret>` (tokens.py). Only a salted scrypt hash of the secret is stored, so a copy of the
database does not give the links away; `redeem_invitation` finds the invitation by id and compares hashes
in constant time. The first invitation makes the study invite-only: from then on `identify_annotator`
(name typing) refuses, and only a valid, unrevoked invitation opens its annotator's queue. Renewing an
invitation replaces its secret, so the old link stops working; `revoke_invitation` closes it for good.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InputError
from .db import Database
from .models import Annotator, Invitation, Study, utcnow
from .study import AccessDenied, AnnotatorInfo, StudyInfo, _clean_name, _in_write, _load_study, _study_info
from .tokens import new_secret, parse_token, secret_matches

QUERY_PARAMETER = "invite"
DEFAULT_BASE_URL = "http://localhost:8501"


@dataclass(frozen=True)
class IssuedInvitation:
    """An invitation as made: its token is shown here once and never stored."""

    annotator: str
    token: str

    def url(self, base_url: str = DEFAULT_BASE_URL) -> str:
        return invitation_url(self.token, base_url)


@dataclass(frozen=True)
class Invited:
    """Who a valid invitation says the visitor is, and in which study."""

    study: StudyInfo
    annotator: AnnotatorInfo


def invitation_url(token: str, base_url: str = DEFAULT_BASE_URL) -> str:
    """The link an annotator opens: the app's address with the token as `?invite=` (app.py then serves the
    Annotate page alone, as the app's only page)."""
    return f"{base_url.rstrip('/')}/?{urlencode({QUERY_PARAMETER: token})}"


def _new_secret(invitation: Invitation) -> str:
    made = new_secret()
    invitation.salt, invitation.secret_hash = made.salt, made.digest
    invitation.revoked_at = None
    invitation.created_at = utcnow()
    return made.secret


def invite_annotators(db: Database, study: int | str | StudyInfo, names: list[str]) -> list[IssuedInvitation]:
    """One invitation per name (a new one, or a renewed one whose old link stops working), in the given
    order; the study becomes invite-only."""
    cleaned = [_clean_name(name, "annotator") for name in names]
    if not cleaned:
        raise InputError("name at least one annotator to invite", field="annotators")
    if len(set(cleaned)) != len(cleaned):
        raise InputError("an annotator is named twice", field="annotators")

    def work(session: Session) -> list[IssuedInvitation]:
        found = _load_study(session, study)
        found.invite_only = True
        issued = []
        for name in cleaned:
            annotator = session.scalar(select(Annotator).where(Annotator.name == name))
            if annotator is None:
                annotator = Annotator(name=name, created_at=utcnow())
                session.add(annotator)
                session.flush()
            invitation = session.scalar(
                select(Invitation).where(Invitation.study_id == found.id, Invitation.annotator_id == annotator.id)
            )
            if invitation is None:
                invitation = Invitation(study_id=found.id, annotator_id=annotator.id)
                session.add(invitation)
            secret = _new_secret(invitation)
            session.flush()
            issued.append(IssuedInvitation(name, f"{invitation.id}-{secret}"))
        return issued

    return _in_write(db, work)


def redeem_invitation(db: Database, token: str | None) -> Invited:
    """The study and annotator a token stands for; AccessDenied (saying which) when it is malformed,
    unknown or revoked."""
    parsed = parse_token(token)
    if parsed is None:
        raise AccessDenied("this invitation link is malformed: open the whole link you were sent")
    invitation_id, secret = parsed
    with db.read() as session:
        invitation = session.get(Invitation, invitation_id)
        stored = (invitation.salt, invitation.secret_hash) if invitation is not None else (None, None)
        if not secret_matches(secret, *stored):
            raise AccessDenied("this invitation link is not valid: ask the study's owner for a new one")
        if invitation.revoked_at is not None:
            raise AccessDenied("this invitation has been revoked: ask the study's owner for a new one")
        annotator = session.get(Annotator, invitation.annotator_id)
        return Invited(
            _study_info(session.get(Study, invitation.study_id)), AnnotatorInfo(annotator.id, annotator.name)
        )


def revoke_invitation(db: Database, study: int | str | StudyInfo, name: str) -> None:
    """Close the annotator's link into the study; their ratings so far stay. InputError when there is none."""
    name = _clean_name(name, "annotator")

    def work(session: Session) -> None:
        found = _load_study(session, study)
        invitation = session.scalar(
            select(Invitation)
            .join(Annotator, Annotator.id == Invitation.annotator_id)
            .where(Invitation.study_id == found.id, Annotator.name == name)
        )
        if invitation is None:
            raise InputError(f"{name!r} has no invitation to study {found.name!r}", field="annotator")
        invitation.revoked_at = utcnow()

    _in_write(db, work)


def invited_annotators(db: Database, study: int | str | StudyInfo) -> list[tuple[str, bool]]:
    """(annotator, revoked) of every invitation of the study, by name."""
    with db.read() as session:
        found = _load_study(session, study)
        rows = session.execute(
            select(Annotator.name, Invitation.revoked_at)
            .join(Invitation, Invitation.annotator_id == Annotator.id)
            .where(Invitation.study_id == found.id)
            .order_by(Annotator.name)
        ).all()
    return [(name, revoked is not None) for name, revoked in rows]
