"""Reading the README's examples, for the tests that run them as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"

_PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def readme_blocks(section: str) -> list[str]:
    """The python code blocks between ``<!-- section:NAME -->`` and its closing marker."""
    text = README.read_text()
    opening, closing = f"<!-- section:{section} -->", f"<!-- /section:{section} -->"
    if opening not in text or closing not in text:
        raise LookupError(f"README.md has no section {section!r}")
    return _PYTHON_BLOCK.findall(text.split(opening, 1)[1].split(closing, 1)[0])
