"""The root gate, POST /root/superusers, the CLI and the first superuser of the embedded default."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.users.models import User
from tests.app.users.support import API, auth, tokens
from tests.conftest import Leg, client_for
from tests.helpers import bearer, create_user

ROOT_TOKEN = "root-token-for-tests-0123456789"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
BODY = {"email": "Boss@Example.com", "password": "boss password", "full_name": "Boss"}


async def test_root_routes_are_refused_while_the_root_token_is_unset(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        f"{API}/root/superusers", json=BODY, headers=auth("anything at all")
    )
    assert response.status_code == 403


async def test_root_creates_a_superuser_who_can_log_in(make_app: Any) -> None:
    async with make_app(AUTH_ROOT_TOKEN=ROOT_TOKEN) as app, client_for(app) as client:
        response = await client.post(f"{API}/root/superusers", json=BODY, headers=auth(ROOT_TOKEN))
        assert response.status_code == 201, response.text
        assert response.json()["scopes"] == ["superuser"]
        assert response.json()["email"] == "boss@example.com"
        assert "password" not in response.text
        pair = await tokens(client, "boss@example.com", password="boss password")
        assert pair["scope"] == "admin regular superuser"
        again = await client.post(f"{API}/root/superusers", json=BODY, headers=auth(ROOT_TOKEN))
        assert again.status_code == 409


@pytest.mark.parametrize("token", ["wrong", ROOT_TOKEN[:-1], ROOT_TOKEN + "x", None, "user"])
async def test_root_refuses_anything_but_the_root_token(
    make_app: Any, database: Any, token: str | None
) -> None:
    async with make_app(AUTH_ROOT_TOKEN=ROOT_TOKEN) as app, client_for(app) as client:
        if token == "user":
            headers = bearer(await create_user(database, scopes=["superuser"]))
        else:
            headers = auth(token) if token else {}
        response = await client.post(f"{API}/root/superusers", json=BODY, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


async def test_root_still_validates_the_body(make_app: Any) -> None:
    async with make_app(AUTH_ROOT_TOKEN=ROOT_TOKEN) as app, client_for(app) as client:
        body = {**BODY, "password": "short"}
        response = await client.post(f"{API}/root/superusers", json=body, headers=auth(ROOT_TOKEN))
        assert response.status_code == 422


async def _users(database: Any) -> list[User]:
    async with database.session() as session:
        return list((await session.scalars(select(User))).all())


async def test_first_superuser_from_settings_on_the_embedded_default_only(
    make_app: Any, database: Any, leg: Leg
) -> None:
    settings = {
        "AUTH_FIRST_SUPERUSER_EMAIL": "First@Example.com",
        "AUTH_FIRST_SUPERUSER_PASSWORD": "first password",
    }
    async with make_app(**settings):
        pass
    users = await _users(database)
    if leg.is_services:
        assert users == []
        return
    assert [(u.email, u.scopes) for u in users] == [("first@example.com", ["superuser"])]
    async with make_app(**settings):  # a second start changes nothing
        pass
    assert len(await _users(database)) == 1


async def test_cli_creates_a_superuser_with_a_prompted_password(leg: Leg, database: Any) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "app.cli", "create-superuser", "--email", "Cli@Example.com"]

    async def run(stdin: str) -> subprocess.CompletedProcess[str]:
        # A new session has no terminal, so getpass reads the two answers from stdin.
        return await asyncio.to_thread(
            subprocess.run,
            command,
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=PROJECT_ROOT,
            start_new_session=True,
            timeout=60,
            check=False,
        )

    mismatch = await run("cli password\nsomething else\n")
    assert mismatch.returncode != 0
    assert await _users(database) == []
    created = await run("cli password\ncli password\n")
    assert created.returncode == 0, created.stderr
    assert "cli password" not in created.stdout
    users = await _users(database)
    assert [(u.email, u.scopes) for u in users] == [("cli@example.com", ["superuser"])]
    duplicate = await run("cli password\ncli password\n")
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr
