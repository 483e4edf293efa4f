"""What a workspace's data holds: sizes, ratings, text and metadata coverage, dates, split, cleaning."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from ..workspace import Workspace
from .importer import load_import_report, load_workspace_tables


def _share(mask) -> float:
    return round(float(mask.mean()), 4) if len(mask) else 0.0


def _date(ms: int) -> str:
    return _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.UTC).date().isoformat()


def _rating_histogram(ratings) -> dict[str, int]:
    known = ratings.dropna()
    counts = known.value_counts().sort_index()
    hist = {(f"{v:g}"): int(n) for v, n in counts.items()}
    if len(known) < len(ratings):
        hist["none"] = int(len(ratings) - len(known))
    return hist


def _cleaning_summary(report: dict[str, Any]) -> dict[str, Any]:
    cleaning = report.get("cleaning", {})
    reviews, items = cleaning.get("reviews", {}), cleaning.get("items", {})
    html = {**reviews.get("html_stripped", {}), **items.get("html_stripped", {})}
    kcore = report.get("kcore", {})
    return {
        "html_stripped": html,
        "unicode_normalised": {**reviews.get("unicode_normalised", {}), **items.get("unicode_normalised", {})},
        "mojibake_repaired": {**reviews.get("mojibake_repaired", {}), **items.get("mojibake_repaired", {})},
        "surrogate_lines_repaired": {
            name: entry["bad_lines"]["surrogate_lines_repaired"]
            for name, entry in report.get("files", {}).items()
            if entry.get("bad_lines", {}).get("surrogate_lines_repaired")
        },
        "titles_replaced": sum(items.get("markup_only_titles_replaced", {}).values()),
        "titles_replaced_from": items.get("markup_only_titles_replaced", {}),
        "duplicate_pairs_removed": reviews.get("duplicate_pairs_removed", 0),
        "bad_lines_skipped": report.get("bad_lines_skipped", 0),
        "bad_lines_by_reason": _bad_reasons(report),
        "kcore": kcore,
        "items_without_metadata": report.get("items_without_metadata", 0),
    }


def _bad_reasons(report: dict[str, Any]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for entry in report.get("files", {}).values():
        for reason, n in entry.get("bad_lines", {}).get("by_reason", {}).items():
            totals[reason] = totals.get(reason, 0) + n
    return totals


def workspace_stats(ws: Workspace) -> dict[str, Any]:
    """Every figure `persona4rec data stats` prints, as a JSON-friendly dict."""
    reviews, items, split = load_workspace_tables(ws)
    report = load_import_report(ws)
    manifest = ws.manifest()
    users, n_items, n = reviews["user_id"].nunique(), reviews["item_id"].nunique(), len(reviews)
    texts = reviews.loc[~reviews["textless"], "text"].str.len()
    split_counts = split["split"].value_counts()
    return {
        "workspace": str(ws.root),
        "source": manifest.get("source") or report.get("source"),
        "synthetic": bool(manifest.get("synthetic", False)),
        "users": int(users),
        "items": int(n_items),
        "interactions": int(n),
        "density": round(n / (users * n_items), 6) if users and n_items else 0.0,
        "ratings": _rating_histogram(reviews["rating"]),
        "text": {
            "textless_share": _share(reviews["textless"]),
            "with_text_share": _share(reviews["text"].str.len() > 0),
            "mean_text_chars": round(float(texts.mean()), 1) if len(texts) else 0.0,
        },
        "metadata": {
            "title": _share(items["title"].str.len() > 0),
            "description": _share(items["description"].str.len() > 0),
            "categories": _share(items["categories"].map(len) > 0),
        },
        "dates": {"first": _date(int(reviews["timestamp"].min())), "last": _date(int(reviews["timestamp"].max()))},
        "split": {s: int(split_counts.get(s, 0)) for s in ("train", "valid", "test")},
        "counts_before": report.get("counts_before", {}),
        "cleaning": _cleaning_summary(report),
        "table": report.get("table"),  # table / recbole imports: file kinds, column maps, time unit
        "rating_scale": report.get("rating_scale"),
    }


def _table_line(table: dict[str, Any] | None) -> list[str]:
    """What a table import read: `reviews csv (gzip), time in s (detected); items parquet; ...`."""
    if not table:
        return []
    reviews = table["reviews"]
    parts = [
        f"reviews {reviews['kind']}{' (gzip)' if reviews['gzip'] else ''}, time in {reviews['time_unit']}"
        + (" (detected)" if reviews["time_unit_detected"] else "")
    ]
    if table.get("items"):
        parts.append(f"items {table['items']['kind']}{' (gzip)' if table['items']['gzip'] else ''}")
    if reviews["item_attribute_columns"]:
        parts.append("item attributes from reviews: " + ", ".join(reviews["item_attribute_columns"]))
    if reviews["dropped_columns"]:
        parts.append("dropped (vary within an item): " + ", ".join(reviews["dropped_columns"]))
    return ["table          " + "; ".join(parts)]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def format_stats(stats: dict[str, Any]) -> str:
    """The human-readable `data stats` text."""
    c, t, m = stats["cleaning"], stats["text"], stats["metadata"]
    before = stats.get("counts_before") or {}
    kcore = c.get("kcore") or {}
    lines = [
        f"workspace      {stats['workspace']}  (source: {stats['source']}"
        + (", SYNTHETIC data" if stats.get("synthetic") else "")
        + ")",
        f"users          {stats['users']:,}",
        f"items          {stats['items']:,}",
        f"interactions   {stats['interactions']:,}",
        f"density        {stats['density']:.4f}",
        "ratings        "
        + "  ".join(f"{k}: {v:,}" for k, v in stats["ratings"].items())
        + (f"  (scale {stats['rating_scale'][0]:g}-{stats['rating_scale'][1]:g})" if stats.get("rating_scale") else ""),
        f"text           {_pct(t['with_text_share'])} with text, {_pct(t['textless_share'])} textless, "
        f"mean {t['mean_text_chars']:,.0f} chars",
        f"metadata       title {_pct(m['title'])}, description {_pct(m['description'])}, "
        f"categories {_pct(m['categories'])}  ({c['items_without_metadata']} items had no metadata record)",
        f"dates          {stats['dates']['first']} .. {stats['dates']['last']}",
        "split          " + ", ".join(f"{k} {v:,}" for k, v in stats["split"].items()),
        *_table_line(stats.get("table")),
        "cleaning",
        f"  before       {before.get('interactions', 0):,} interactions, {before.get('users', 0):,} users, "
        f"{before.get('items', 0):,} items",
        "  HTML         tags/entities removed: "
        + (", ".join(f"{k} {v:,}" for k, v in c["html_stripped"].items()) or "none found"),
        "  Unicode      " + (", ".join(f"{k} {v:,}" for k, v in c["unicode_normalised"].items()) or "none changed"),
        "  mojibake     repaired: "
        + (", ".join(f"{k} {v:,}" for k, v in c["mojibake_repaired"].items()) or "none found"),
        "  surrogates   lines repaired (pairs joined, lone ones now U+FFFD): "
        + (", ".join(f"{k} {v:,}" for k, v in c["surrogate_lines_repaired"].items()) or "none found"),
        f"  titles       {c['titles_replaced']} markup-only titles replaced"
        + (
            f" (from {', '.join(f'{k} {v}' for k, v in c['titles_replaced_from'].items())})"
            if c["titles_replaced"]
            else ""
        ),
        f"  duplicates   {c['duplicate_pairs_removed']:,} duplicate (user, item) pairs removed",
        f"  bad lines    {c['bad_lines_skipped']:,} skipped"
        + (
            f" ({', '.join(f'{k} {v}' for k, v in c['bad_lines_by_reason'].items())})" if c["bad_lines_skipped"] else ""
        ),
        f"  k-core       k={kcore.get('k', '?')}: removed {kcore.get('interactions_removed', 0):,} interactions, "
        f"{kcore.get('users_removed', 0):,} users, {kcore.get('items_removed', 0):,} items "
        f"in {kcore.get('iterations', 0)} rounds",
    ]
    return "\n".join(lines)
