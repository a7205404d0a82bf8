"""Plain-text content rendering for administrator-edited pages: no HTML is ever trusted."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def render_plain(text: str) -> SafeString:
    """Render blank-line separated paragraphs and ``- `` bullet lists as escaped HTML."""
    blocks: list[str] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in block.strip().split("\n") if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{escape(line[2:])}</li>" for line in lines)
            blocks.append(f"<ul>{items}</ul>")
        else:
            blocks.append(f"<p>{'<br>'.join(escape(line) for line in lines)}</p>")
    return mark_safe("\n".join(blocks))  # noqa: S308 - every piece above is escaped
