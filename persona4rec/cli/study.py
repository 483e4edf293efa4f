"""CLI verbs: `persona4rec db upgrade|current`, `persona4rec study create|list|invite|revoke|export|results` and
`persona4rec admin create`."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

URL_HELP = "SQLAlchemy database URL (default: PERSONA4REC_DB_URL, else sqlite:///db/persona4rec.sqlite)"


def register(subparsers) -> None:
    db = subparsers.add_parser("db", help="the annotation database: schema migrations")
    db_verbs = db.add_subparsers(dest="db_command", metavar="VERB", required=True)
    up = db_verbs.add_parser("upgrade", help="create or upgrade the schema to the newest migration")
    up.add_argument("--url", help=URL_HELP)
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.set_defaults(func=_db_upgrade)
    cur = db_verbs.add_parser("current", help="print the schema revision the database is at")
    cur.add_argument("--url", help=URL_HELP)
    cur.set_defaults(func=_db_current)

    study = subparsers.add_parser("study", help="pairwise human-rating studies")
    verbs = study.add_subparsers(dest="study_command", metavar="VERB", required=True)
    create = verbs.add_parser("create", help="create a study from an examples JSONL file")
    create.add_argument("--url", help=URL_HELP)
    create.add_argument("--name", required=True)
    create.add_argument(
        "--criteria",
        choices=["explanation", "persona"],
        default="explanation",
        help="criteria set (default: explanation)",
    )
    create.add_argument("--system-a", help="system that wrote explanation_a, e.g. multi_persona")
    create.add_argument("--system-b", help="system that wrote explanation_b, e.g. single_persona")
    create.add_argument(
        "--systems",
        help="comma-separated: compare these two or more systems instead of --system-a/--system-b; each "
        "example shows one pair, every pair equally often",
    )
    create.add_argument(
        "--examples",
        help="JSONL: user_id, item_id, explanation_a, explanation_b, optional history/item_title/workspace",
    )
    create.add_argument(
        "--workspace",
        help="build examples from this workspace (systems multi_persona, single_persona, summary_profile): "
        "sampled users' held-out items, explained as the app's Studies page explains them; with "
        "--explanations, the built-in systems explain the file's users and items and the workspace gives "
        "their histories",
    )
    create.add_argument(
        "--explanations",
        help="CSV or JSONL of (user_id, item_id, system, explanation[, item_title]) rows: a team's own "
        "systems; use with --systems",
    )
    create.add_argument(
        "--check-share",
        type=float,
        default=0.0,
        help="share of each annotator's queue that is attention checks (an explanation written for another "
        "item beside the real one), e.g. 0.1 (default: 0, none)",
    )
    create.add_argument(
        "--check-pass-mark",
        type=float,
        default=0.75,
        help="share of their checks an annotator must pass not to be flagged (default: 0.75)",
    )
    create.add_argument(
        "--worker-id-param",
        help="accept crowd workers by this URL parameter, e.g. PROLIFIC_PID (prints the study's crowd link)",
    )
    create.add_argument(
        "--completion-code-env",
        metavar="VAR",
        help="environment variable holding the completion code shown to a crowd worker whose queue is done",
    )
    create.add_argument(
        "--examples-per-study",
        type=int,
        help="use a seeded sample of this many examples (with --workspace: default 50)",
    )
    create.add_argument(
        "--split",
        choices=["test", "valid"],
        default="test",
        help="with --workspace: whose held-out items to explain (default: test)",
    )
    create.add_argument("--annotators-per-example", type=int, default=3)
    create.add_argument(
        "--guidelines-file", type=Path, help="text file of guidelines shown to annotators before their first example"
    )
    create.add_argument("--seed", type=int, default=0)
    create.add_argument(
        "--token-env",
        metavar="VAR",
        help="name of an environment variable holding the study's access token "
        "(kept off the command line, where other users could read it)",
    )
    create.set_defaults(func=_study_create)

    listing = verbs.add_parser("list", help="list studies with their progress")
    listing.add_argument("--url", help=URL_HELP)
    listing.set_defaults(func=_study_list)

    export = verbs.add_parser("export", help="write every rating of a study as CSV or JSON")
    export.add_argument("--url", help=URL_HELP)
    export.add_argument("--name", required=True, help="study name or id")
    export.add_argument("--out", required=True, help="output file (.csv or .json)")
    export.add_argument("--format", choices=["csv", "json"], help="default: from the --out suffix")
    export.set_defaults(func=_study_export)

    admin = subparsers.add_parser("admin", help="owner accounts: who may create studies, invite and see results")
    admin.set_defaults(func=lambda args: (admin.print_help(), 1)[1])
    admin_verbs = admin.add_subparsers(dest="admin_command", metavar="VERB")
    owner = admin_verbs.add_parser(
        "create",
        help="create an owner account and print its secret once (only a salted hash is stored)",
        description="Create an owner account. Its secret is printed once, on standard output: the owner signs in "
        "to the app with it. With an owner account (or PERSONA4REC_ADMIN_TOKEN) the app leaves open mode: "
        "visitors see only a sign-in page, invited annotators only their Annotate page.",
    )
    owner.add_argument("name", help="the owner's name")
    owner.add_argument("--url", help=URL_HELP)
    owner.set_defaults(func=_admin_create)

    invite = verbs.add_parser(
        "invite",
        help="make one personal link per annotator (prints NAME URL); the study becomes invite-only",
        description="Print one line per annotator, `NAME URL`, where the URL opens the app's Annotate page "
        "with that annotator's personal token. Only a salted hash of each token is stored; inviting someone "
        "again replaces their link. Once a study has invitations, nobody can annotate it without one.",
    )
    invite.add_argument("study", help="study name or id")
    invite.add_argument("--annotators", required=True, help="comma-separated names, e.g. alice,bob")
    invite.add_argument("--base-url", default=None, help="the app's address (default http://localhost:8501)")
    invite.add_argument("--url", help=URL_HELP)
    invite.set_defaults(func=_study_invite)

    revoke = verbs.add_parser("revoke", help="close an annotator's invitation link (their ratings stay)")
    revoke.add_argument("study", help="study name or id")
    revoke.add_argument("--annotator", required=True, help="the invited annotator's name")
    revoke.add_argument("--url", help=URL_HELP)
    revoke.set_defaults(func=_study_revoke)

    results = verbs.add_parser("results", help="per-criterion win/tie/loss rates, sign test, agreement")
    results.add_argument("--url", help=URL_HELP)
    results.add_argument("--name", required=True, help="study name or id")
    results.add_argument(
        "--unit",
        choices=["rating", "example"],
        default="rating",
        help="count every rating (default) or each example's majority outcome",
    )
    results.add_argument(
        "--without-flagged", action="store_true", help="leave out the annotators flagged by attention checks"
    )
    results.add_argument("--json", action="store_true", help="print JSON instead of a table")
    results.set_defaults(func=_study_results)

    ranking = verbs.add_parser(
        "ranking",
        help="every pair of systems (win/tie/loss, Holm-corrected sign tests) and a Bradley-Terry ranking "
        "per criterion",
    )
    ranking.add_argument("--url", help=URL_HELP)
    ranking.add_argument("--name", required=True, help="study name or id")
    ranking.add_argument("--without-flagged", action="store_true", help="leave out flagged annotators")
    ranking.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples for the intervals")
    ranking.add_argument("--json", action="store_true", help="print JSON instead of tables")
    ranking.set_defaults(func=_study_ranking)

    quality = verbs.add_parser(
        "quality", help="per annotator: attention-check score, flag, agreement with the others' majority, time"
    )
    quality.add_argument("--url", help=URL_HELP)
    quality.add_argument("--name", required=True, help="study name or id")
    quality.add_argument("--json", action="store_true", help="print JSON instead of a table")
    quality.set_defaults(func=_study_quality)


def _study_ref(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def _db_upgrade(args: argparse.Namespace) -> int:
    from ..annotation.engine import resolve_url
    from ..annotation.migrate import upgrade

    url = resolve_url(args.url)
    revision = upgrade(url, revision=args.revision)
    print(f"{url}: schema at revision {revision}")
    return 0


def _db_current(args: argparse.Namespace) -> int:
    from ..annotation.engine import make_engine, resolve_url
    from ..annotation.migrate import current_revision, head_revision

    url = resolve_url(args.url)
    engine = make_engine(url)
    try:
        at = current_revision(engine)
    finally:
        engine.dispose()
    print(f"{url}: at {at or '(empty)'}, newest {head_revision()}")
    return 0


def _study_create(args: argparse.Namespace) -> int:
    from ..annotation.db import open_database
    from ..annotation.study import create_study

    token = _secret_from_env(args.token_env, "--token-env")
    completion_code = _secret_from_env(args.completion_code_env, "--completion-code-env")
    systems = _systems(args)
    examples, left_out = _create_examples(args, systems)
    db = open_database(args.url)
    info = create_study(
        db,
        args.name,
        args.criteria,
        systems[0],
        systems[1],
        examples,
        systems=systems,
        annotators_per_example=args.annotators_per_example,
        seed=args.seed,
        access_token=token,
        examples_per_study=args.examples_per_study,
        guidelines=_guidelines(args.guidelines_file),
        check_share=args.check_share,
        check_pass_mark=args.check_pass_mark,
        worker_id_param=args.worker_id_param,
        completion_code=completion_code,
    )
    print(
        f"study {info.name!r} (id {info.id}): {info.examples_per_study} examples x "
        f"{info.annotators_per_example} annotators, {info.criteria_set} criteria, "
        f"{' vs '.join(info.systems)}{', access token required' if info.requires_token else ''}"
    )
    if left_out:
        print(f"left out {left_out} (user, item) pairs without an explanation from every system")
    if info.check_share:
        print(f"attention checks: {info.check_share:.0%} of each queue, pass mark {info.check_pass_mark:.0%}")
    if info.worker_id_param:
        from ..annotation.crowd import crowd_url
        from ..annotation.invitations import DEFAULT_BASE_URL

        print(f"crowd link (the platform fills in the worker id): {crowd_url(info, DEFAULT_BASE_URL)}")
    return 0


def _secret_from_env(variable: str | None, flag: str) -> str | None:
    """A secret named by an environment variable (kept off the command line, where other users can read it)."""
    from ..errors import ConfigError

    if not variable:
        return None
    value = os.environ.get(variable)
    if not value:
        raise ConfigError(f"environment variable {variable} ({flag}) is empty or unset")
    return value


def _systems(args: argparse.Namespace) -> list[str]:
    from ..errors import InputError

    if args.systems:
        if args.system_a or args.system_b:
            raise InputError("give either --systems or --system-a and --system-b", field="systems")
        systems = [s.strip() for s in args.systems.split(",") if s.strip()]
        if len(systems) < 2:
            raise InputError("--systems needs at least two names", field="systems")
        return systems
    if not (args.system_a and args.system_b):
        raise InputError("give --system-a and --system-b (or --systems a,b,c)", field="system_a")
    if args.explanations:
        raise InputError("--explanations goes with --systems", field="systems")
    return [args.system_a, args.system_b]


def _create_examples(args: argparse.Namespace, systems: list[str]):
    """(the study's examples, how many file rows' pairs were left out) from --examples, --workspace and/or
    --explanations."""
    from ..annotation.design import paired_examples
    from ..errors import InputError

    if args.examples and (args.workspace or args.explanations):
        raise InputError("--examples cannot be combined with --workspace or --explanations", field="examples")
    if args.examples:
        from ..annotation.examples_io import read_examples_jsonl

        if len(systems) > 2:
            raise InputError("an --examples file holds two systems; use --explanations for more", field="examples")
        return read_examples_jsonl(args.examples), 0
    if not (args.workspace or args.explanations):
        raise InputError("give --examples, --workspace or --explanations", field="examples")
    options = {"split": args.split, "criteria_set": args.criteria}
    if args.explanations:
        from ..annotation.examples_io import read_system_explanations

        explained = read_system_explanations(args.explanations)
        if args.workspace:
            from ..annotation.examples import complete_from_workspace
            from ..workspace import Workspace

            explained = complete_from_workspace(Workspace.open(args.workspace), explained, systems, **options)
    else:
        from ..annotation.examples import build_system_examples
        from ..workspace import Workspace

        explained = build_system_examples(
            Workspace.open(args.workspace), systems, args.examples_per_study or 50, seed=args.seed, **options
        )
    return paired_examples(explained, systems, args.seed)


def _guidelines(path: Path | None) -> str:
    from ..errors import InputError

    if path is None:
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the guidelines: {exc}", path=path) from None


def _study_list(args: argparse.Namespace) -> int:
    from ..annotation.db import open_database
    from ..annotation.study import list_studies, study_progress

    db = open_database(args.url)
    studies = list_studies(db)
    if not studies:
        print("no studies")
    for info in studies:
        progress = study_progress(db, info.id)
        print(
            f"{info.id}\t{info.name}\t{info.criteria_set}\t{info.system_a} vs {info.system_b}\t"
            f"{progress.done}/{progress.needed} assignments done\t"
            f"{progress.complete_examples}/{progress.examples} examples complete\t"
            f"{len(progress.annotators)} annotators"
        )
    return 0


def _admin_create(args: argparse.Namespace) -> int:
    from ..annotation.db import open_database
    from ..annotation.owners import create_owner

    account = create_owner(open_database(args.url), args.name)
    print(f"owner {account.name}: secret {account.token}")
    print("keep it safe: it is shown only now and is what signs in to the app's owner pages")
    return 0


def _study_invite(args: argparse.Namespace) -> int:
    from ..annotation.db import open_database
    from ..annotation.invitations import DEFAULT_BASE_URL, invite_annotators

    db = open_database(args.url)
    names = [name for name in args.annotators.split(",") if name.strip()]
    for issued in invite_annotators(db, _study_ref(args.study), names):
        print(f"{issued.annotator} {issued.url(args.base_url or DEFAULT_BASE_URL)}")
    return 0


def _study_revoke(args: argparse.Namespace) -> int:
    from ..annotation.db import open_database
    from ..annotation.invitations import revoke_invitation

    revoke_invitation(open_database(args.url), _study_ref(args.study), args.annotator)
    print(f"revoked {args.annotator}'s invitation to {args.study}")
    return 0


def _study_export(args: argparse.Namespace) -> int:
    from ..annotation.db import open_database
    from ..annotation.export import export_ratings

    db = open_database(args.url)
    n = export_ratings(db, _study_ref(args.name), args.out, args.format)
    print(f"wrote {n} ratings to {args.out}")
    return 0


def _study_results(args: argparse.Namespace) -> int:
    from ..annotation.db import open_database
    from ..annotation.stats import study_results

    db = open_database(args.url)
    results = study_results(db, _study_ref(args.name), unit=args.unit, exclude_flagged=args.without_flagged)
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2, default=str))
        return 0
    print(
        f"{'criterion':<20}{'n':>5}{'A win':>8}{'tie':>8}{'B win':>8}  {'A win 95% CI':<16}{'sign p':>8}"
        f"{'Holm p':>8}{'alpha':>8}{'kappa':>8}"
    )
    for r in results:
        print(
            f"{r.name:<20}{r.n:>5}{r.win_rate:>8.3f}{r.tie_rate:>8.3f}{r.loss_rate:>8.3f}  "
            f"[{r.win_ci[0]:.3f}, {r.win_ci[1]:.3f}]  {r.sign_test_p:>8.4f}{r.sign_test_p_holm:>8.4f}"
            f"{r.krippendorff_alpha:>8.3f}{r.fleiss_kappa:>8.3f}"
        )
    return 0


def _study_ranking(args: argparse.Namespace) -> int:
    from ..annotation.db import open_database
    from ..annotation.ranking import study_ranking
    from ..annotation.stats import study_pair_results

    db = open_database(args.url)
    study = _study_ref(args.name)
    pairs = study_pair_results(db, study, exclude_flagged=args.without_flagged)
    ranking = study_ranking(db, study, exclude_flagged=args.without_flagged, bootstrap=args.bootstrap)
    if args.json:
        document = {"pairs": [p.as_dict() for p in pairs], "ranking": [s.as_dict() for s in ranking]}
        print(json.dumps(document, indent=2, default=str))
        return 0
    print(f"{'criterion':<20}{'pair':<40}{'n':>5}{'A win':>8}{'tie':>8}{'B win':>8}{'sign p':>9}{'Holm p':>9}")
    for p in pairs:
        r = p.result
        print(
            f"{r.name:<20}{p.system_a + ' vs ' + p.system_b:<40}{r.n:>5}{r.win_rate:>8.3f}{r.tie_rate:>8.3f}"
            f"{r.loss_rate:>8.3f}{r.sign_test_p:>9.4f}{r.sign_test_p_holm:>9.4f}"
        )
    print(f"\n{'criterion':<20}{'rank':>5}  {'system':<30}{'strength':>9}  95% interval")
    for s in ranking:
        print(f"{s.criterion:<20}{s.rank:>5}  {s.system:<30}{s.strength:>9.3f}  [{s.ci_low:.3f}, {s.ci_high:.3f}]")
    return 0


def _study_quality(args: argparse.Namespace) -> int:
    from ..annotation.db import open_database
    from ..annotation.quality import study_quality

    quality = study_quality(open_database(args.url), _study_ref(args.name))
    if args.json:
        print(json.dumps([q.as_dict() for q in quality], indent=2, default=str))
        return 0
    print(f"{'annotator':<30}{'checks':>8}{'passed':>8}{'score':>8}  {'flagged':<8}{'compared':>9}{'agreement':>10}")
    for q in quality:
        print(
            f"{q.annotator:<30}{q.checks_rated:>8}{q.checks_passed:>8}{q.check_score:>8.3f}  "
            f"{'yes' if q.flagged else 'no':<8}{q.compared:>9}{q.agreement_with_majority:>10.3f}"
        )
    return 0
