"""MessengerService and its controllers without HTTP: transactions, visibility, the user lookup."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.messenger.controllers import ThreadController
from app.messenger.models import Message, Role, Thread, ThreadParticipant
from app.messenger.repository import ActiveUserRepository
from app.messenger.schemas import MessageCreate, ParticipantsAdd, ThreadCreate
from app.messenger.service import MessengerService
from app.users.models import User
from core.db import utcnow
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.security import Principal, expand_scopes
from tests.helpers import create_user


def principal_of(user: User, *scopes: str) -> Principal:
    return Principal(id=user.id, scopes=expand_scopes(scopes or ("regular",)))


@pytest.fixture
async def users(database: Any) -> list[User]:
    return [
        await create_user(database, f"{name}@example.com") for name in ("alice", "bob", "carol")
    ]


@pytest.fixture
async def fresh_session(database: Any) -> AsyncIterator[AsyncSession]:
    async with database.session() as session:
        yield session


async def count(session: AsyncSession, model: type[Any]) -> int:
    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_create_thread_collapses_duplicates_and_always_includes_the_creator(
    session: AsyncSession, users: list[User]
) -> None:
    alice, bob, _ = users
    service = MessengerService(session, principal_of(alice))
    thread = await service.create_thread(
        ThreadCreate(title="t", participant_ids=[bob.id, alice.id, bob.id])
    )
    assert thread.created_by == alice.id
    assert [(p.user_id, p.role) for p in thread.participants] == [
        (alice.id, Role.CREATOR),
        (bob.id, Role.MEMBER),
    ]
    assert thread.last_activity_at == thread.created_at
    assert thread.last_message_at is None


async def test_a_failed_thread_creation_leaves_nothing_behind(
    session: AsyncSession, fresh_session: AsyncSession, users: list[User]
) -> None:
    alice, bob, _ = users

    class FailingAfterInsert(ThreadController):
        async def perform_create(self, data: ThreadCreate) -> Thread:
            await super().perform_create(data)
            raise Conflict("simulated failure after the rows were written")

    service = MessengerService(session, principal_of(alice))
    service._controllers[ThreadController] = FailingAfterInsert(session, service.principal)
    with pytest.raises(Conflict):
        await service.create_thread(ThreadCreate(title="t", participant_ids=[bob.id]))
    assert await count(fresh_session, Thread) == 0
    assert await count(fresh_session, ThreadParticipant) == 0


async def test_bad_participants_are_named_by_position_and_nothing_is_written(
    session: AsyncSession, fresh_session: AsyncSession, database: Any, users: list[User]
) -> None:
    alice, bob, carol = users
    inactive = await create_user(database, "idle@example.com", is_active=False)
    async with database.session() as writer:
        gone = await writer.get(User, carol.id)
        assert gone is not None
        gone.deleted_at = utcnow()
        await writer.commit()
    ghost = uuid.uuid4()
    service = MessengerService(session, principal_of(alice))
    with pytest.raises(InvalidInput) as raised:
        await service.create_thread(
            ThreadCreate(title="t", participant_ids=[bob.id, ghost, inactive.id, carol.id])
        )
    assert [e["loc"] for e in raised.value.errors] == [
        ["body", "participant_ids", 1],
        ["body", "participant_ids", 2],
        ["body", "participant_ids", 3],
    ]
    assert await count(fresh_session, Thread) == 0


async def test_the_active_user_lookup_is_one_query(
    session: AsyncSession, database: Any, users: list[User]
) -> None:
    alice, bob, _ = users
    inactive = await create_user(database, "idle@example.com", is_active=False)
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        found = await ActiveUserRepository(session).active_ids(
            {alice.id, bob.id, inactive.id, uuid.uuid4()}
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert found == {alice.id, bob.id}
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


async def test_sending_a_message_moves_the_thread_in_the_same_transaction(
    session: AsyncSession, fresh_session: AsyncSession, users: list[User]
) -> None:
    alice, bob, _ = users
    service = MessengerService(session, principal_of(alice))
    thread = await service.create_thread(ThreadCreate(title="t", participant_ids=[bob.id]))
    message = await service.send_message(thread.id, MessageCreate(body="hi"))

    stored = await fresh_session.get(Thread, thread.id)
    assert stored is not None
    assert stored.last_message_at == message.created_at
    assert stored.last_activity_at == message.created_at


async def test_a_failed_thread_update_drops_the_message_too(
    session: AsyncSession, fresh_session: AsyncSession, users: list[User]
) -> None:
    alice, _, _ = users
    service = MessengerService(session, principal_of(alice))
    thread = await service.create_thread(ThreadCreate(title="t"))

    class FailingThreadUpdate(ThreadController):
        async def record_message(self, thread: Thread, at: Any) -> None:
            raise Conflict("simulated failure")

    failing = MessengerService(session, principal_of(alice))
    failing._controllers[ThreadController] = FailingThreadUpdate(session, failing.principal)
    with pytest.raises(Conflict):
        await failing.send_message(thread.id, MessageCreate(body="lost"))
    assert await count(fresh_session, Message) == 0


async def test_thread_scope_hides_threads_the_caller_is_not_in(
    session: AsyncSession, users: list[User]
) -> None:
    alice, bob, carol = users
    mine = await MessengerService(session, principal_of(alice)).create_thread(
        ThreadCreate(title="mine", participant_ids=[bob.id])
    )
    theirs = await MessengerService(session, principal_of(carol)).create_thread(
        ThreadCreate(title="theirs")
    )
    as_bob = ThreadController(session, principal_of(bob))
    visible = await as_bob.repository.all(as_bob.query())
    assert [t.id for t in visible] == [mine.id]
    with pytest.raises(NotFound):
        await as_bob.get(theirs.id)


async def test_leaving_keeps_history_and_rejoining_adds_a_new_row(
    session: AsyncSession, fresh_session: AsyncSession, users: list[User]
) -> None:
    alice, bob, _ = users
    service = MessengerService(session, principal_of(alice))
    thread = await service.create_thread(ThreadCreate(title="t", participant_ids=[bob.id]))
    await MessengerService(session, principal_of(bob)).remove_participant(thread.id, bob.id)
    again = await service.add_participants(thread.id, ParticipantsAdd(user_ids=[bob.id]))
    assert [p.user_id for p in again.participants] == [alice.id, bob.id]

    rows = (
        await fresh_session.scalars(
            select(ThreadParticipant).where(ThreadParticipant.user_id == bob.id)
        )
    ).all()
    assert sorted(r.deleted_at is None for r in rows) == [False, True]


async def test_a_member_cannot_probe_user_ids_through_add_participants(
    session: AsyncSession, users: list[User]
) -> None:
    alice, bob, _ = users
    thread = await MessengerService(session, principal_of(alice)).create_thread(
        ThreadCreate(title="t", participant_ids=[bob.id])
    )
    # The permission check comes before the user lookup: a 403, not a 422 about the ids.
    with pytest.raises(Forbidden):
        await MessengerService(session, principal_of(bob)).add_participants(
            thread.id, ParticipantsAdd(user_ids=[uuid.uuid4()])
        )
