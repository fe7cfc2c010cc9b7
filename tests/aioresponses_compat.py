"""
aioresponses for aiohttp 3.14 (not a test file).

aioresponses 0.7.9 builds ``ClientResponse`` objects without the ``stream_writer`` argument
that aiohttp 3.14 made required (``TypeError: ClientResponse.__init__() missing 1 required
keyword-only argument: 'stream_writer'``; aioresponses issue #289, fixed by PR #288, not
released yet). :func:`mocked_http` patches the response class aioresponses uses so it
supplies one. Only for what the emulator cannot stage.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import aiohttp
import aioresponses.core
from aioresponses import aioresponses as _aioresponses


class CompatResponse(aiohttp.ClientResponse):
    """A ClientResponse that accepts being built without a stream writer."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", mock.Mock(output_size=0))
        super().__init__(method, url, **kwargs)


@contextmanager
def mocked_http() -> Iterator[_aioresponses]:
    """``with mocked_http() as m: m.post(url, ...)`` — aioresponses, working on aiohttp 3.14."""
    with (
        mock.patch.object(aioresponses.core, "ClientResponse", CompatResponse),
        _aioresponses() as m,
    ):
        yield m
