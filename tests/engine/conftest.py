"""Engine test fixtures: a run environment on the real clock, and one on a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from baton.engine import FakeClock, RunEnvironment


@pytest.fixture
async def env() -> AsyncIterator[RunEnvironment]:
    async with RunEnvironment(seed=7) as environment:
        yield environment


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def fake_env(clock: FakeClock) -> AsyncIterator[RunEnvironment]:
    async with RunEnvironment(clock=clock, seed=7) as environment:
        yield environment
