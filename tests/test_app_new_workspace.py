"""The "New workspace" page under AppTest: a shop's own CSV export (made from the synthetic demo catalogue,
with its own column names) chosen on the server, previewed, mapped, imported through
data.importer.import_dataset, built with a progress bar and opened in the picker; an upload; a bad column;
the owner-only rule. Plus the page's plain helpers (persona4rec.views.importing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from persona4rec.errors import ConfigError, InputError

APP = Path(__file__).resolve().parents[1] / "app.py"
PAGE = "pages/new_workspace.py"
TIMEOUT = 600  # the build step runs the whole pipeline (extractive personas, candidates, indexes, metrics)
ADMIN = "a long enough owner secret"
BUILD_STEPS = ["data", "offline personas", "candidates", "encoder", "indexes", "tune", "metrics"]


def write_shop(folder: Path, seed: int = 3, n_items: int = 12, n_users: int = 30):
    """reviews.csv (customer, sku, stars, when as ISO 8601, headline, body, channel) and items.csv (sku,
    name, about, genre as "A|B", maker): the demo catalogue as another shop would export it."""
    import pandas as pd

    from persona4rec.demo.catalogue import generate_demo

    demo = generate_demo(seed=seed, n_items=n_items, n_users=n_users)
    r, i = demo.reviews, demo.items
    reviews = pd.DataFrame(
        {
            "customer": r["user_id"],
            "sku": r["item_id"],
            "stars": r["rating"],
            "when": pd.to_datetime(r["timestamp"], unit="ms", utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "headline": r["title"],
            "body": r["text"],
            "channel": "web",
        }
    )
    items = pd.DataFrame(
        {
            "sku": i["item_id"],
            "name": i["title"],
            "about": i["description"],
            "genre": i["categories"].map("|".join),
            "maker": i["attributes"].map(lambda a: a["brand"]),
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    reviews.to_csv(folder / "reviews.csv", index=False)
    items.to_csv(folder / "items.csv", index=False)
    return reviews, items


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("shop")
    write_shop(folder)
    return folder


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("PERSONA4REC_HOME", str(home))
    monkeypatch.setenv("PERSONA4REC_DB_URL", f"sqlite:///{tmp_path / 'studies.sqlite'}")
    monkeypatch.delenv("PERSONA4REC_WORKSPACE", raising=False)
    monkeypatch.delenv("PERSONA4REC_ADMIN_TOKEN", raising=False)
    return home


def open_page():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    ok(at)
    at.switch_page(PAGE).run()
    ok(at)
    assert [t.value for t in at.title] == ["New workspace"]
    return at


def ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def widget(elements, prefix: str):
    """The page keys its column widgets by the chosen file ("new_map_rating:<file>|<meta>")."""
    found = [w for w in elements if w.key and w.key.split(":")[0] == prefix]
    assert found, f"no widget keyed {prefix}: {[w.key for w in elements]}"
    return found[0]


def table_with(at, column: str):
    from persona4rec.webapp.check import find_table

    table = find_table(at, column)
    assert table is not None, f"no table with column {column!r}"
    return table


def text_of(elements) -> str:
    return " ".join(e.value.replace("\\", "") for e in elements)


SHOP_MAP = {"user_id": "customer", "item_id": "sku", "rating": "stars", "timestamp": "when"}
SHOP_MAP.update(title="headline", text="body")
SHOP_META = {"item_id": "sku", "title": "name", "description": "about", "categories": "genre", "brand": "maker"}


@pytest.mark.slow
def test_import_and_build_a_server_file_then_pick_it(home, shop, tmp_path):
    import pandas as pd

    from persona4rec.data.formats import ImportConfig, ImportRequest
    from persona4rec.data.importer import import_dataset

    at = open_page()
    assert "Choose the reviews file first" in text_of(at.info)
    at.text_input(key="new_path").input(str(shop)).run()
    ok(at)
    # a folder: its data files, the reviews and the metadata file guessed from their names
    assert widget(at.selectbox, "new_folder_reviews").value == "reviews.csv"
    assert widget(at.selectbox, "new_folder_meta").value == "items.csv"
    assert "detected format table (csv): 7 columns" in text_of(at.markdown)
    first = at.dataframe[0].value
    assert list(first.columns) == ["customer", "sku", "stars", "when", "headline", "body", "channel"]
    assert len(first) == 5
    suggested = {key: widget(at.selectbox, f"new_map_{key}").value for key in SHOP_MAP if key != "timestamp"}
    assert suggested == {k: v for k, v in SHOP_MAP.items() if k != "timestamp"}  # "when" is no usual name
    assert {k: widget(at.selectbox, f"new_meta_map_{k}").value for k in SHOP_META} == SHOP_META
    assert widget(at.selectbox, "new_map_timestamp").value is None  # no guess for a required column
    assert "Choose the column for timestamp" in text_of(at.warning) and at.button(key="new_import").disabled
    widget(at.selectbox, "new_map_timestamp").set_value("when").run()
    assert not at.button(key="new_import").disabled
    assert at.text_input(key="new_name").value == shop.name  # the folder's name, first
    at.text_input(key="new_name").input("shop")
    at.button(key="new_import").click().run()
    ok(at)
    assert not at.error, text_of(at.error)
    assert "Imported shop." in text_of(at.success)
    stats = at.code[0].value
    assert "users          30" in stats and "source: table" in stats

    # the page imported through the one import path: the same tables as import_dataset given the same map
    config = ImportConfig(format="table", column_map=SHOP_MAP, meta_column_map=SHOP_META)
    direct = import_dataset(ImportRequest(shop / "reviews.csv", shop / "items.csv", config=config), tmp_path / "d")[0]
    for name in ("reviews", "items", "split"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(home / "shop" / "data" / f"{name}.parquet"),
            pd.read_parquet(direct.data_dir / f"{name}.parquet"),
        )

    at.multiselect(key="new_generators").set_value(["pop"])
    for key in ("new_single", "new_train", "new_tune"):
        at.checkbox(key=key).uncheck()
    at.button(key="new_build").click().run()
    ok(at)
    assert not at.error, text_of(at.error)
    assert [p.value for p in at.get("progress")] == [100]
    report = table_with(at, "note")
    assert report["step"].tolist() == BUILD_STEPS
    assert "personas for 12 items" in report["note"].tolist()
    assert (home / "shop" / "offline" / "personas.jsonl").stat().st_size > 0

    at.button(key="new_open").click().run()
    ok(at)
    picker = at.sidebar.selectbox(key="workspace")
    assert picker.value == str(home / "shop") and picker.options == ["shop"]
    at.switch_page("pages/explore_user.py").run()
    ok(at)
    assert len(table_with(at, "persona")), "the new workspace's candidates are not reranked"


def test_a_bad_column_names_file_line_and_column_and_leaves_nothing(home, shop):
    at = open_page()
    at.text_input(key="new_path").input(str(shop / "reviews.csv")).run()
    widget(at.selectbox, "new_map_timestamp").set_value("when")
    widget(at.selectbox, "new_map_rating").set_value("headline")  # text, not a number
    at.text_input(key="new_name").input("bad").run()
    at.button(key="new_import").click().run()
    ok(at)
    said = text_of(at.error)
    assert "reviews.csv" in said and "line 2" in said and "headline" in said, said
    assert not (home / "bad").exists()
    assert not [p for p in home.glob(".bad*")], "a staging folder was left behind"
    assert not at.success and not at.get("progress")


def test_an_uploaded_parquet_file_is_kept_and_imported(home, shop):
    import pandas as pd

    reviews = pd.read_csv(shop / "reviews.csv").rename(columns={"customer": "member_id", "body": "comment"})
    path = shop.parent / "orders.parquet"
    reviews.to_parquet(path, index=False)
    at = open_page()
    at.radio(key="new_source").set_value("Upload a file").run()
    at.file_uploader(key="new_upload").upload("orders.parquet", path.read_bytes()).run()
    ok(at)
    assert "detected format table (parquet)" in text_of(at.markdown)
    assert widget(at.selectbox, "new_map_user_id").value == "member_id"
    widget(at.selectbox, "new_map_timestamp").set_value("when")
    at.text_input(key="new_name").input("orders").run()
    at.button(key="new_import").click().run()
    ok(at)
    assert not at.error, text_of(at.error)
    assert "interactions   342" in at.code[0].value
    kept = list((home / ".uploads").glob("*/orders.parquet"))
    assert len(kept) == 1 and kept[0].read_bytes() == path.read_bytes()


@pytest.mark.slow
def test_only_the_owner_reaches_the_page(home, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("PERSONA4REC_ADMIN_TOKEN", ADMIN)
    visitor = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    with pytest.raises(ValueError, match="Known pages"):
        visitor.switch_page(PAGE)  # not registered for a visitor
    owner = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    owner.text_input(key="owner_secret").input(ADMIN)
    owner.button[0].click().run()
    owner.switch_page(PAGE).run()
    ok(owner)
    assert [t.value for t in owner.title] == ["New workspace"]


# -- the page's helpers --------------------------------------------------------------------------


def test_build_progress_follows_the_pipeline_steps():
    from persona4rec.pipeline import STEPS
    from persona4rec.views.importing import BuildProgress

    seen = []
    tracker = BuildProgress.for_build(lambda done, text: seen.append((done, text)))
    assert tracker.steps == [name for name, _ in STEPS]
    tracker.echo("workspace /x: kept the existing workspace")
    tracker.echo("[offline personas] ...")
    tracker.echo("[offline personas] personas for 3 items (1.0 s)")
    assert seen == [(0.0, f"step 1 of {len(STEPS)}: offline personas ..."), (1 / len(STEPS), "offline personas done")]
    for name, _ in STEPS[1:]:
        tracker.echo(f"[{name}] note (0.1 s)")
    assert seen[-1] == (1.0, "built") and len(tracker.lines) == 3 + len(STEPS) - 1


def test_names_files_and_uploads(tmp_path):
    from persona4rec.views.importing import (
        data_files,
        likely_roles,
        parse_rating_scale,
        save_upload,
        workspace_target,
    )

    for name in ("meta_Books.jsonl.gz", "notes.txt", "reviews_Books.jsonl.gz", "shop.inter"):
        (tmp_path / name).write_text("x")
    files = data_files(tmp_path)
    assert [f.name for f in files] == ["meta_Books.jsonl.gz", "reviews_Books.jsonl.gz", "shop.inter"]
    assert likely_roles(files) == (1, 0)
    assert likely_roles(files[2:]) == (0, None)

    home = tmp_path / "home"
    assert workspace_target("books-2023", home) == home / "books-2023"
    for bad in ("", ".hidden", "a/b", "../up"):
        with pytest.raises(ConfigError, match="workspace name"):
            workspace_target(bad, home)
    (home / "taken").mkdir(parents=True)
    (home / "taken" / "manifest.json").write_text("{}")
    with pytest.raises(ConfigError, match="already exists"):
        workspace_target("taken", home)

    assert parse_rating_scale("") is None and parse_rating_scale(" 1, 10 ") == (1.0, 10.0)
    with pytest.raises(ConfigError, match="LOW,HIGH"):
        parse_rating_scale("five")
    first = save_upload("r.csv", b"a,b\n1,2\n", home)
    assert save_upload("r.csv", b"a,b\n1,2\n", home) == first and first.read_bytes() == b"a,b\n1,2\n"
    assert save_upload("r.csv", b"a,b\n3,4\n", home) != first  # another content, another folder
    with pytest.raises(InputError, match="cannot tell the table format"):
        save_upload("data.xlsx", b"x", home)
