"""Command line.

    python -m app.cli create-superuser --email you@example.com   # prompts for the password
    python -m app.cli purge-tokens        # delete expired sessions and refresh-token rows

The password is prompted for (twice) and never taken from the command line.
"""

import argparse
import asyncio
import getpass
import sys

from pydantic import ValidationError

from app.users.schemas import SuperuserCreate
from app.users.service import AuthService
from configs import get_settings
from core.audit import acting_as
from core.db import Database, engine_from_settings
from core.errors import Conflict
from core.migrations import upgrade_async
from core.pagination import CursorCodec
from core.service import unit_of_work


def _prompt_password() -> str:
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password (again): ") != password:
        raise SystemExit("The passwords do not match.")
    return password


async def _database() -> Database:
    settings = get_settings()
    if settings.is_embedded:  # the embedded default migrates itself; it may not have started yet
        await upgrade_async(settings.migration_url)
    return Database(
        engine_from_settings(settings.database, settings.database_url),
        cursor_codec=CursorCodec(settings.secret_key),
    )


async def create_superuser(email: str, full_name: str) -> int:
    """Create the superuser; the exit status of the command."""
    try:
        data = SuperuserCreate(email=email, password=_prompt_password(), full_name=full_name)
    except ValidationError as exc:
        for error in exc.errors():
            print(f"{'.'.join(map(str, error['loc']))}: {error['msg']}", file=sys.stderr)
        return 2
    database = await _database()
    try:
        async with unit_of_work(database) as session:
            with acting_as("cli.create_superuser"):  # the audit log's actor
                user = await AuthService(session, None).create_superuser(data)
    except Conflict as exc:
        print(exc.detail, file=sys.stderr)
        return 1
    finally:
        await database.dispose()
    print(f"Created superuser {user.email} ({user.id}).")
    return 0


async def purge_tokens() -> int:
    """Delete expired sessions and refresh-token rows."""
    database = await _database()
    try:
        async with unit_of_work(database) as session:
            sessions, tokens = await AuthService(session, None).purge_expired()
    finally:
        await database.dispose()
    print(f"Deleted {sessions} expired sessions and {tokens} expired refresh tokens.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-superuser", help="create a user with every scope")
    create.add_argument("--email", required=True)
    create.add_argument("--full-name", default="")
    commands.add_parser("purge-tokens", help="delete expired sessions and refresh tokens")
    args = parser.parse_args(argv)
    if args.command == "purge-tokens":
        return asyncio.run(purge_tokens())
    return asyncio.run(create_superuser(args.email, args.full_name))


if __name__ == "__main__":
    raise SystemExit(main())
