"""The plain-text part of an email: `{% load email_text %}{% plaintext %}…{% endplaintext %}`.

Inside the block nothing is HTML-escaped (it is not HTML), and the result is tidied the way
a careful person writes plain text: no trailing spaces, never two blank lines in a row, and
lines wrapped at 78 characters. Names, notes and blurbs come from people and can be long, so
the wrapping happens after rendering rather than by hand in each template. A word longer than
the line (a link) is never broken: it keeps a line of its own, so it still works when clicked.
"""

from __future__ import annotations

import re
import textwrap

from django import template

register = template.Library()

WIDTH = 78
# A list item keeps its continuation lines under its text: "- ", "  - ", "* ", "1. " or an indent.
_PREFIX = re.compile(r"^(\s*(?:[-*•]\s+|\d+\.\s+)?)")


def _wrap(line: str, width: int) -> list[str]:
    if len(line) <= width:
        return [line]
    indent = " " * len(_PREFIX.match(line).group(1))
    return textwrap.wrap(
        line, width=width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
    ) or [line]


def tidy_plain_text(text: str, width: int = WIDTH) -> str:
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.rstrip()
        if not line:
            if lines and lines[-1]:
                lines.append("")
            continue
        lines.extend(_wrap(line, width))
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


class PlainTextNode(template.Node):
    def __init__(self, nodelist: template.NodeList):
        self.nodelist = nodelist

    def render(self, context: template.Context) -> str:
        autoescape = context.autoescape
        context.autoescape = False
        try:
            return tidy_plain_text(self.nodelist.render(context))
        finally:
            context.autoescape = autoescape


@register.tag
def plaintext(parser, token):
    nodelist = parser.parse(("endplaintext",))
    parser.delete_first_token()
    return PlainTextNode(nodelist)
