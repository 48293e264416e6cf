"""Render a notification from its Jinja2 template in the recipient's language."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from app.services.delivery.rules import language_or_default


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Plain-text mail: nothing is HTML-escaped.
    return Environment(
        loader=PackageLoader("app", "templates/mail"),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # The templates ship with the package: a change to one takes a restart, and each
        # mail rendered does not ask the file system whether its template changed.
        auto_reload=False,
    )


def render(name: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of template `name` in `language` (es, pt or en; else en)."""
    template = _environment().get_template(f"{name}.{language_or_default(language)}.txt")
    text = template.render(**context)
    first, _, body = text.partition("\n")
    subject = " ".join(first.removeprefix("Subject:").split())
    return subject, body.lstrip("\n")
