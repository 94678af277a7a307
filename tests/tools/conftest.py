"""Every sandbox test runs on both event loops: asyncio's, and uvloop, which the server uses
(they differ in how they start and wait for subprocesses)."""

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import uvloop

from tests.tools.helpers import OnLoop, Sandbox, run
from troupe.tools.sandbox import SandboxResult


@pytest.fixture(params=["asyncio", "uvloop"])
def on_loop(request: pytest.FixtureRequest) -> Iterator[OnLoop]:
    """Run a coroutine to completion on a fresh loop of the kind under test."""
    factory = uvloop.new_event_loop if request.param == "uvloop" else asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        yield runner.run


@pytest.fixture
def sandbox(on_loop: OnLoop) -> Sandbox:
    """`run` (see helpers), called from a plain test on the loop under test."""

    def call(source: str, function: str = "f", **kwargs: Any) -> SandboxResult:
        result: SandboxResult = on_loop(run(source, function, **kwargs))
        return result

    return call
