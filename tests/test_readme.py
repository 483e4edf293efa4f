"""The README's "From Python" example runs as written against a tiny built workspace, and the public
names of `persona4rec` resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from encoder_tiny import build_tiny_workspace, write_full_candidates

import persona4rec

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example() -> str:
    section = README.read_text(encoding="utf-8").split("## From Python", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README.md: the 'From Python' section has no python code block"
    return match.group(1)


def test_every_public_name_resolves():
    assert persona4rec.__all__
    for name in persona4rec.__all__:
        assert getattr(persona4rec, name) is not None, name
    with pytest.raises(AttributeError):
        persona4rec.no_such_name  # noqa: B018


def test_readme_example_runs(tmp_path, capsys):
    ws = build_tiny_workspace(tmp_path / "ws")
    write_full_candidates(ws)
    code = readme_example()
    assert '"workspaces/demo"' in code
    exec(compile(code.replace('"workspaces/demo"', repr(str(ws.root))), "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(".")[0] for line in lines] == ["1", "2", "3"], lines
    assert all("(CF rank " in line for line in lines)
