"""The messenger's controllers without HTTP: units of work, visibility, the thread lock."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.messenger.controller import MessageController, ThreadController
from app.messenger.models import Message, Role, Thread, ThreadParticipant
from app.messenger.schemas import MessageCreate, ParticipantsAdd, ThreadCreate
from app.users.models import User
from app.users.repository import UserRepository
from core.db import utcnow
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.security import Principal, expand_scopes
from core.service import unit_of_work
from tests.conftest import Leg
from tests.helpers import create_user, recorded_statements, selects


def principal_of(user: User, *scopes: str) -> Principal:
    return Principal(id=user.id, scopes=expand_scopes(scopes or ("regular",)))


@asynccontextmanager
async def threads_of(
    database: Any, user: User, cls: type[ThreadController] = ThreadController
) -> AsyncIterator[ThreadController]:
    """`user`'s thread controller in a unit of work of its own (as one request has)."""
    async with unit_of_work(database) as session:
        yield cls(session, principal_of(user))


@asynccontextmanager
async def messages_of(
    database: Any, user: User, cls: type[MessageController] = MessageController
) -> AsyncIterator[MessageController]:
    async with unit_of_work(database) as session:
        yield cls(session, principal_of(user))


@pytest.fixture
async def users(database: Any) -> list[User]:
    return [
        await create_user(database, f"{name}@example.com") for name in ("alice", "bob", "carol")
    ]


async def count(session: AsyncSession, model: type[Any]) -> int:
    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_create_thread_collapses_duplicates_and_always_includes_the_creator(
    database: Any, users: list[User]
) -> None:
    alice, bob, _ = users
    async with threads_of(database, alice) as threads:
        thread = await threads.create(
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
    database: Any, session: AsyncSession, users: list[User]
) -> None:
    alice, bob, _ = users

    class FailingAfterInsert(ThreadController):
        async def perform_create(self, data: ThreadCreate, **values: Any) -> Thread:
            await super().perform_create(data, **values)
            raise Conflict("simulated failure after the rows were written")

    with pytest.raises(Conflict):
        async with threads_of(database, alice, FailingAfterInsert) as threads:
            await threads.create(ThreadCreate(title="t", participant_ids=[bob.id]))
    assert await count(session, Thread) == 0
    assert await count(session, ThreadParticipant) == 0


async def test_bad_participants_are_named_by_position_and_nothing_is_written(
    database: Any, session: AsyncSession, users: list[User]
) -> None:
    alice, bob, carol = users
    inactive = await create_user(database, "idle@example.com", is_active=False)
    async with unit_of_work(database) as writer:
        gone = await writer.get(User, carol.id)
        assert gone is not None
        gone.deleted_at = utcnow()
    ghost = uuid.uuid4()
    with pytest.raises(InvalidInput) as raised:
        async with threads_of(database, alice) as threads:
            await threads.create(
                ThreadCreate(title="t", participant_ids=[bob.id, ghost, inactive.id, carol.id])
            )
    assert [e["loc"] for e in raised.value.errors] == [
        ["body", "participant_ids", 1],
        ["body", "participant_ids", 2],
        ["body", "participant_ids", 3],
    ]
    assert await count(session, Thread) == 0


async def test_the_active_user_lookup_is_one_query(
    session: AsyncSession, database: Any, users: list[User]
) -> None:
    alice, bob, _ = users
    inactive = await create_user(database, "idle@example.com", is_active=False)
    with recorded_statements(database.engine) as seen:
        found = await UserRepository(session).active_ids(
            {alice.id, bob.id, inactive.id, uuid.uuid4()}
        )
    assert found == {alice.id, bob.id}
    assert len(selects(seen)) == 1


async def test_sending_a_message_moves_the_thread_in_the_same_transaction(
    database: Any, session: AsyncSession, users: list[User]
) -> None:
    alice, bob, _ = users
    async with threads_of(database, alice) as threads:
        thread = await threads.create(ThreadCreate(title="t", participant_ids=[bob.id]))
    async with messages_of(database, bob) as messages:
        message = await messages.create(MessageCreate(body="hi"), parent_id=thread.id)
    assert message.author_id == bob.id and message.thread_id == thread.id
    stored = await session.get(Thread, thread.id)
    assert stored is not None
    assert stored.last_message_at == message.created_at
    assert stored.last_activity_at == message.created_at


async def test_a_failed_thread_update_drops_the_message_too(
    database: Any, session: AsyncSession, users: list[User]
) -> None:
    alice, _, _ = users
    async with threads_of(database, alice) as threads:
        thread = await threads.create(ThreadCreate(title="t"))

    class FailingAfterPost(MessageController):
        async def perform_create(
            self, data: MessageCreate, *, parent: Thread | None = None, **values: Any
        ) -> Message:
            await super().perform_create(data, parent=parent, **values)
            raise Conflict("simulated failure after the message and the thread were written")

    with pytest.raises(Conflict):
        async with messages_of(database, alice, FailingAfterPost) as messages:
            await messages.create(MessageCreate(body="lost"), parent_id=thread.id)
    assert await count(session, Message) == 0
    stored = await session.get(Thread, thread.id)
    assert stored is not None and stored.last_message_at is None


async def test_thread_visibility_hides_threads_the_caller_is_not_in(
    database: Any, users: list[User]
) -> None:
    alice, bob, carol = users
    async with threads_of(database, alice) as threads:
        mine = await threads.create(ThreadCreate(title="mine", participant_ids=[bob.id]))
    async with threads_of(database, carol) as threads:
        theirs = await threads.create(ThreadCreate(title="theirs"))
    async with threads_of(database, bob) as as_bob:
        visible = await as_bob.repository.all(as_bob.query())
        assert [t.id for t in visible] == [mine.id]
        with pytest.raises(NotFound):
            await as_bob.get(theirs.id)
    async with messages_of(database, bob) as messages:
        with pytest.raises(NotFound):
            await messages.create(MessageCreate(body="let me in"), parent_id=theirs.id)
        with pytest.raises(NotFound):
            await messages.list(parent_id=theirs.id)


async def test_leaving_keeps_history_and_rejoining_adds_a_new_row(
    database: Any, session: AsyncSession, users: list[User]
) -> None:
    alice, bob, _ = users
    async with threads_of(database, alice) as threads:
        thread = await threads.create(ThreadCreate(title="t", participant_ids=[bob.id]))
    async with threads_of(database, bob) as threads:
        await threads.remove_participant(thread.id, bob.id)
    async with threads_of(database, alice) as threads:
        again = await threads.add_participants(thread.id, ParticipantsAdd(user_ids=[bob.id]))
    assert [p.user_id for p in again.participants] == [alice.id, bob.id]
    rows = (
        await session.scalars(select(ThreadParticipant).where(ThreadParticipant.user_id == bob.id))
    ).all()
    assert sorted(r.deleted_at is None for r in rows) == [False, True]


async def test_a_member_cannot_probe_user_ids_through_add_participants(
    database: Any, users: list[User]
) -> None:
    alice, bob, _ = users
    async with threads_of(database, alice) as threads:
        thread = await threads.create(ThreadCreate(title="t", participant_ids=[bob.id]))
    # The permission check comes before the user lookup: a 403, not a 422 about the ids.
    with pytest.raises(Forbidden):
        async with threads_of(database, bob) as threads:
            await threads.add_participants(thread.id, ParticipantsAdd(user_ids=[uuid.uuid4()]))


async def _statements_waiting_for_a_lock(database: Any) -> list[str]:
    # A fresh transaction per look: pg_stat_activity is a snapshot per transaction.
    query = text(
        "SELECT query FROM pg_stat_activity "
        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    async with database.session() as session:
        return list((await session.execute(query)).scalars())


@pytest.mark.postgres_only
async def test_sending_a_message_waits_for_the_thread_row_lock(
    leg: Leg, database: Any, users: list[User]
) -> None:
    """Posts to one thread are serialised on the thread row: while another transaction holds
    `SELECT … FOR UPDATE` on it, a send is blocked locking that row before it writes; once
    released, it completes and moves the thread's activity."""
    if not leg.is_services:
        pytest.skip("SQLite has no row locks: its one connection serialises every write")
    alice, _, _ = users
    async with threads_of(database, alice) as threads:
        thread = await threads.create(ThreadCreate(title="t"))
    async with database.session() as holder:
        await holder.execute(select(Thread).where(Thread.id == thread.id).with_for_update())

        async def send() -> Message:
            async with messages_of(database, alice) as messages:
                return await messages.create(MessageCreate(body="queued"), parent_id=thread.id)

        sending = asyncio.create_task(send())
        waiting: list[str] = []
        for _ in range(200):  # bounded: at most ~10 s for the send to reach the lock
            waiting = await _statements_waiting_for_a_lock(database)
            if waiting:
                break
            await asyncio.sleep(0.05)
        # It waits on the thread row itself, before writing anything (not on a later write).
        assert len(waiting) == 1 and "FOR UPDATE" in waiting[0], waiting
        assert waiting[0].lstrip().upper().startswith("SELECT")
        assert not sending.done()
        await holder.commit()
        message = await asyncio.wait_for(sending, timeout=10)
    async with database.session() as session:
        stored = await session.get(Thread, thread.id)
        assert stored is not None and stored.last_message_at == message.created_at
