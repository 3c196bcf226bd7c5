"""Two-factor sign-in below HTTP: the codes, the sealed secret, the one-use step claim and
which scopes wait for the factor."""

import asyncio
import logging
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from app.two_factor.codes import (
    matching_step,
    new_recovery_codes,
    new_secret,
    normalise_code,
    recovery_code_hash,
    seal,
    unseal,
)
from app.two_factor.models import TotpCredential
from app.two_factor.repository import TotpCredentialRepository
from app.two_factor.service import permitted
from core.service import unit_of_work
from tests.app.users.two_factor_support import codes_around
from tests.conftest import reset_settings_caches
from tests.helpers import create_user


@pytest.fixture
def environment() -> Iterator[None]:
    """The environment (and the settings built from it) as it was, after the test."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    reset_settings_caches()


def apply(**values: str) -> None:
    """Set environment variables and rebuild the settings."""
    os.environ.update(values)
    reset_settings_caches()


def test_recovery_codes_are_random_readable_and_typed_loosely() -> None:
    codes = new_recovery_codes()
    assert len(set(codes)) == 10
    assert all(re.fullmatch(r"([a-z2-9]{4}-){3}[a-z2-9]{4}", code) for code in codes)
    assert not any(set(code) & set("01ilo") for code in codes)
    assert normalise_code(" AbCd-efgh ijkm-NPQR\t") == "abcdefghijkmnpqr"
    assert recovery_code_hash(codes[0].upper().replace("-", " ")) == recovery_code_hash(codes[0])


def test_the_secret_is_stored_sealed_and_a_changed_key_cannot_open_it(
    environment: None, caplog: pytest.LogCaptureFixture
) -> None:
    secret = new_secret()
    sealed = seal(secret)
    assert secret not in sealed and unseal(sealed) == secret
    apply(AUTH_TOTP_ENCRYPTION_KEY="another-key-" + "x" * 32)
    with caplog.at_level(logging.ERROR, logger="plinth.two_factor"):
        assert unseal(sealed) is None
    assert "cannot be decrypted" in caplog.text and secret not in caplog.text


def test_codes_of_the_neighbouring_steps_match_and_others_do_not() -> None:
    secret = new_secret()
    previous, current, following = codes_around(secret)
    steps = [matching_step(secret, code) for code in (previous, current, following)]
    assert None not in steps
    first = steps[0]
    assert first is not None and steps == [first, first + 1, first + 2]
    wrong = next(f"{n:06d}" for n in range(4) if f"{n:06d}" not in (previous, current, following))
    assert matching_step(secret, wrong) is None


@pytest.mark.parametrize(
    ("required", "scopes", "left"),
    [
        ("", {"superuser", "admin", "regular"}, {"superuser", "admin", "regular"}),
        ("admin", {"superuser", "admin", "regular"}, {"regular"}),
        ("superuser", {"superuser", "admin", "regular"}, {"admin", "regular"}),
        ("admin,superuser", {"admin", "regular"}, {"regular"}),
        ("admin", {"regular"}, {"regular"}),
    ],
)
def test_required_scopes_and_those_implying_them_wait_for_the_factor(
    environment: None, required: str, scopes: set[str], left: set[str]
) -> None:
    apply(AUTH_TOTP_REQUIRED_SCOPES=required)
    assert permitted(frozenset(scopes)) == left


async def test_only_one_of_two_concurrent_uses_of_a_step_wins(database: Any) -> None:
    user = await create_user(database)
    async with unit_of_work(database) as session:
        credential = TotpCredential(user_id=user.id, sealed_secret=seal(new_secret()))
        session.add(credential)

    async def claim(step: int) -> bool:
        async with unit_of_work(database) as session:
            won = await TotpCredentialRepository(session).claim_step(credential.id, step)
            await asyncio.sleep(0)  # the other claim runs while this transaction is open
            return won

    assert sorted(await asyncio.gather(claim(100), claim(100))) == [False, True]
    assert not await claim(99) and not await claim(100)
    assert await claim(101)
