"""Showing data as text: every review, name and rationale may contain markup, and must stay inert.

Streamlit never renders raw HTML from st.markdown without unsafe_allow_html (which this app never passes),
but Markdown itself is live: a review could carry links, images, headings, LaTeX ($...$) or Streamlit's
own directives (:red[...], :material/icon:). `md` backslash-escapes every ASCII punctuation character,
which CommonMark defines as always literal, so the text reads exactly as written.
"""

from __future__ import annotations

import html
import re
import string

_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")


def md(value: object) -> str:
    """`value` as a Markdown fragment that renders as exactly its text (line breaks kept)."""
    text = "" if value is None else str(value)
    escaped = _PUNCTUATION.sub(r"\\\1", text)
    # A line break inside a paragraph needs two trailing spaces to survive Markdown.
    return escaped.replace("\r\n", "\n").replace("\n", "  \n")


def chart_text(value: object) -> str:
    """Text for a plotly label: plotly renders a subset of HTML tags (<b>, <a href=...>) in labels, so
    markup is turned into entities, which plotly shows as the literal characters."""
    return html.escape("" if value is None else str(value), quote=False)
