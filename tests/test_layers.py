"""The package's layering, checked on the source: a module imports only from its own layer or lower ones
(lazy, function-level imports included), so lower code never depends on the app, the CLI or the bench.
DEVELOPERS.md ("Where code goes") describes the layers."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "persona4rec"
LAYERS = [
    {"errors", "io", "config", "workspace", "lazy"},
    {"data", "embedding", "metrics"},
    {"llm"},
    {"offline"},
    {"candidates", "encoder", "index", "ltr"},
    {"rerank"},
    {"evaluation", "annotation"},
    {"demo", "authors"},
    {"pipeline", "views", "webapp"},
    {"cli"},
]
RANK = {name: n for n, names in enumerate(LAYERS) for name in names}
# The package's own __init__ / __main__ re-export from every layer, lazily; they are the top.
TOP = {"__init__", "__main__"}


def top_level(module: str) -> str:
    return module.split(".")[0]


def imported_modules(path: Path) -> set[str]:
    """persona4rec-relative dotted names this file imports (absolute or relative, anywhere in it)."""
    # A relative import resolves against the file's package: its folder (also for an __init__.py).
    package = path.relative_to(PACKAGE).parent.parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - (node.level - 1)])
                target = ".".join(base + ([node.module] if node.module else []))
                if target:
                    found.add(target)
                else:  # `from . import x` at the package root
                    found.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith("persona4rec."):
                found.add(node.module.removeprefix("persona4rec."))
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("persona4rec.") for a in node.names if a.name.startswith("persona4rec."))
    return found


def test_every_module_has_a_layer():
    names = {p.stem if p.parent == PACKAGE else p.relative_to(PACKAGE).parts[0] for p in PACKAGE.rglob("*.py")}
    assert names - TOP <= set(RANK), f"add to LAYERS: {sorted(names - TOP - set(RANK))}"


def test_no_module_imports_a_higher_layer():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if "migrations" in rel.parts or (len(rel.parts) == 1 and rel.stem in TOP):
            continue
        mine = RANK[top_level(".".join(rel.with_suffix("").parts))]
        for target in imported_modules(path):
            theirs = RANK.get(top_level(target))
            if theirs is not None and theirs > mine:
                upward.append(f"{rel} imports {target}")
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)
