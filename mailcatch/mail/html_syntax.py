"""The pieces of HTML's tag syntax that both readers of HTML use (html_tree for the reader's tree,
checks.html_scan for the checks' positions): each matches in linear time from where it is asked."""

from __future__ import annotations

import re

__all__ = ["ATTRIBUTE", "TAG_NAME", "TAG_REST"]

TAG_NAME = re.compile(r"[a-zA-Z][^\s/>]*")
"""A tag's name, just after `<` or `</`."""
TAG_REST = re.compile(r"""[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>""")
"""The rest of a tag after its name, to its `>`, quoted values and all."""
ATTRIBUTE = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
"""One attribute: its name, and its value double-quoted, single-quoted or bare."""
