"""Crowd workers: a study that names a worker-id URL parameter (e.g. Prolific's PROLIFIC_PID) lets a
platform send workers in by one shared link, `?crowd=<study>&PROLIFIC_PID=<their id>`.

The worker is identified by the id the platform put in the URL (annotator name `PARAM:id`, the id also kept
as `external_id`), so a worker's queue and answers follow their platform id across visits, and the owner
can pay or reject by it. The study's completion code is shown only once the worker's queue is done
(`completion_code_for`). An invite-only study takes no crowd workers: personal invitations are the stronger
guard, and mixing them would let anyone with the shared link in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InputError
from .db import Database
from .models import Annotator, utcnow
from .study import AccessDenied, AnnotatorInfo, StudyInfo, _in_write, annotator_progress, check_access, get_study

QUERY_PARAMETER = "crowd"
WORKER_ID = re.compile(r"[A-Za-z0-9_.\-]{1,100}")


def crowd_url(study: StudyInfo, base_url: str) -> str:
    """The study's one link for a crowdsourcing platform, with the platform's placeholder for the worker id
    (Prolific's `{{%PROLIFIC_PID%}}` syntax; other platforms have their own)."""
    if not study.worker_id_param:
        raise InputError(f"study {study.name!r} takes no crowd workers (no worker id parameter)", field="study")
    return (
        f"{base_url.rstrip('/')}/?{QUERY_PARAMETER}={quote(study.name, safe='')}"
        f"&{study.worker_id_param}={{{{%{study.worker_id_param}%}}}}"
    )


def crowd_study(db: Database, query: Mapping[str, str]) -> tuple[StudyInfo, str]:
    """(the study, the worker id) a crowd link's query parameters name; AccessDenied for a study that takes
    no crowd workers or a missing or malformed worker id."""
    reference = str(query.get(QUERY_PARAMETER) or "").strip()
    try:
        study = get_study(db, reference)
    except InputError:
        raise AccessDenied("this link names no study that takes crowd workers") from None
    if not study.worker_id_param or study.invite_only:
        raise AccessDenied("this link names no study that takes crowd workers")
    worker_id = str(query.get(study.worker_id_param) or "").strip()
    if not WORKER_ID.fullmatch(worker_id):
        raise AccessDenied(
            f"this link has no valid worker id in {study.worker_id_param} (1 to 100 letters, digits, _ . -); "
            "open the study from the crowdsourcing platform"
        )
    return study, worker_id


def identify_worker(db: Database, study: StudyInfo, worker_id: str, access_token: str | None = None) -> AnnotatorInfo:
    """The annotator for this crowd worker of `study` (registered on first visit)."""
    check_access(db, study, access_token)
    name = f"{study.worker_id_param}:{worker_id}"

    def work(session: Session) -> AnnotatorInfo:
        annotator = session.scalar(select(Annotator).where(Annotator.name == name))
        if annotator is None:
            annotator = Annotator(name=name, external_id=worker_id, created_at=utcnow())
            session.add(annotator)
            session.flush()
        return AnnotatorInfo(annotator.id, annotator.name, annotator.external_id)

    return _in_write(db, work)


def completion_code_for(db: Database, study: StudyInfo, annotator_id: int) -> str | None:
    """The study's completion code once this annotator has finished their queue (nothing pending and no
    example left for them), else None."""
    from .study import next_assignment

    if not study.completion_code:
        return None
    progress = annotator_progress(db, study.id, annotator_id)
    if progress.pending or progress.done == 0:
        return None
    return study.completion_code if next_assignment(db, study.id, annotator_id) is None else None
