"""Fixtures for the end-to-end tests against the telegram-test-api Bot API emulator.

``emulator`` runs the emulator (a Node subprocess) for one test, ``quirks_adapter`` puts the proxy
that makes it look like the real Bot API in front of it (give the bot ``quirks_adapter.base_url``),
and ``user`` is a person chatting with the bot of ``TEST_TOKEN``.

Without the npm package (``npm ci --prefix tests/e2e``) the tests are skipped, unless
CALFBOT_REQUIRE_E2E=1 is set (as in CI): then they fail.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.emulator import E2E_DIR, TEST_TOKEN, Emulator, EmulatorUser, emulator_install_problem
from tests.e2e.quirks_adapter import QuirksAdapter

REQUIRE_E2E = "CALFBOT_REQUIRE_E2E"


def skip_or_fail_without_emulator(e2e_dir: Path = E2E_DIR) -> None:
    """Skip the test when the emulator is not installed, or fail it when CALFBOT_REQUIRE_E2E=1."""
    problem = emulator_install_problem(e2e_dir)
    if problem is None:
        return
    if os.environ.get(REQUIRE_E2E) == "1":
        pytest.fail(f"{problem} ({REQUIRE_E2E}=1 requires the e2e tests to run)", pytrace=False)
    pytest.skip(problem)


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    skip_or_fail_without_emulator()
    async with Emulator() as running:
        yield running


@pytest.fixture
async def quirks_adapter(emulator: Emulator) -> AsyncIterator[QuirksAdapter]:
    async with QuirksAdapter(emulator.url) as adapter:
        yield adapter


@pytest.fixture
def user(emulator: Emulator) -> EmulatorUser:
    return emulator.user(TEST_TOKEN)
