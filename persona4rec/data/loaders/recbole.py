"""RecBole's atomic files (`--format recbole`), the recommender community's common benchmark format.

    ml-1m.inter   user_id:token  item_id:token  rating:float  timestamp:float  [review:token_seq ...]
    ml-1m.item    item_id:token  movie_title:token_seq  release_year:token  genre:token_seq  ...

Tab-separated, one header line of `name:type` cells (token, token_seq, float, float_seq); timestamps are
Unix seconds. The `.inter` file is the reviews file; the items file is `--meta`, else the `.item` file beside
it when there is one. Columns are found under RecBole's default names (user_id, item_id, rating, timestamp;
review for the text) and item titles, categories, descriptions and brands under the usual ones (title or
movie_title or name; categories or genre or class; token_seq cells split at spaces); `--map` / `--meta-map`
name others (without the `:type`). Everything else becomes item attributes, typed as declared, as in the
table format (loaders/table.py), which reads these files.
"""

from __future__ import annotations

from pathlib import Path

from . import table
from .common import LoadedDataset

SOURCE = "recbole"
REVIEW_DEFAULTS = {"text": ("review", "text"), "title": ("title", "summary")}
ITEM_DEFAULTS = {
    "title": ("title", "movie_title", "name", "item_name"),
    "description": ("description",),
    "categories": ("categories", "genre", "class", "category"),
    "brand": ("brand",),
}


def sibling_items_file(inter: Path) -> Path | None:
    """ml-1m.inter -> ml-1m.item (also for .inter.gz), when that file exists."""
    name = inter.name
    stem = name[: -len(".inter.gz")] if name.endswith(".inter.gz") else inter.stem
    for candidate in (inter.with_name(f"{stem}.item"), inter.with_name(f"{stem}.item.gz")):
        if candidate.is_file():
            return candidate
    return None


def load(inter: Path, item: Path | None, options: table.TableOptions, *, skip_bad_lines: bool = False) -> LoadedDataset:
    item = item or sibling_items_file(Path(inter))
    return table.load(
        inter,
        item,
        options,
        skip_bad_lines=skip_bad_lines,
        kind="recbole",
        source=SOURCE,
        review_defaults=REVIEW_DEFAULTS,
        item_defaults=ITEM_DEFAULTS,
    )
