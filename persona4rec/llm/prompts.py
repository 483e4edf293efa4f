"""Prompt files: persona4rec/llm/prompts/<domain>/<task>.md, one per domain and task.

A file holds a system part and a user part, each introduced by a marker line (`<!-- system -->`,
`<!-- user -->`), with `$name` placeholders (string.Template, so the JSON braces a prompt may show need
no escaping). Every prompt has a `$schema` placeholder: the JSON schema of the expected answer is
written into it, so a server without schema enforcement still sees what to produce.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from string import Template

from ..errors import ConfigError

DOMAINS = ("generic", "books", "restaurants")
TASKS = ("summarize", "aspects", "personas", "personas_single", "judge")
_MARKER = re.compile(r"^<!--\s*(system|user)\s*-->\s*$", re.MULTILINE)


@dataclass(frozen=True)
class PromptTemplate:
    domain: str
    task: str
    system: Template
    user: Template

    @property
    def source(self) -> str:
        return f"persona4rec/llm/prompts/{self.domain}/{self.task}.md"

    def render(self, **fields: object) -> list[dict]:
        """Chat messages with every placeholder filled; a missing field is an error naming the file."""
        values = {k: "" if v is None else str(v) for k, v in fields.items()}
        try:
            return [
                {"role": "system", "content": self.system.substitute(values).strip()},
                {"role": "user", "content": self.user.substitute(values).strip()},
            ]
        except KeyError as exc:
            raise ConfigError(f"{self.source}: placeholder ${exc.args[0]} has no value") from None


def _parse(text: str, domain: str, task: str) -> PromptTemplate:
    parts = _MARKER.split(text)
    # split() with one group gives ["preamble", "system", body, "user", body]
    sections = dict(zip(parts[1::2], parts[2::2]))
    if set(sections) != {"system", "user"}:
        raise ConfigError(
            f"persona4rec/llm/prompts/{domain}/{task}.md: needs a '<!-- system -->' and a '<!-- user -->' part"
        )
    return PromptTemplate(domain, task, Template(sections["system"]), Template(sections["user"]))


@functools.cache
def load_prompt(domain: str, task: str) -> PromptTemplate:
    if domain not in DOMAINS:
        raise ConfigError(f"unknown prompt domain '{domain}' (choose from {', '.join(DOMAINS)})")
    if task not in TASKS:
        raise ConfigError(f"unknown prompt task '{task}' (choose from {', '.join(TASKS)})")
    text = resources.files("persona4rec.llm").joinpath("prompts", domain, f"{task}.md").read_text(encoding="utf-8")
    return _parse(text, domain, task)
