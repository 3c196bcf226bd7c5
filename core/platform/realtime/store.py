"""Single-use tickets and per-user connection slots, in Redis or in this process.

Tickets: a random secret, stored only as its SHA-256, valid for a few seconds and consumed by
the first redemption (Redis `GETDEL`), so a ticket that leaks from a log is already spent.
Slots: how many sockets a user holds across every process — a sorted set of connection ids
scored by expiry, refreshed by each process's heartbeat, so a crashed process's slots lapse.
"""

import hashlib
import secrets
import time
import uuid
from typing import Protocol

from core.platform.realtime.protocol import Grant
from core.platform.redis import RedisClient


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def new_ticket() -> str:
    """A random ticket (URL- and header-safe characters only)."""
    return secrets.token_urlsafe(32)


class TicketStore(Protocol):
    """Where issued tickets wait to be redeemed once."""

    async def issue(self, grant: Grant, ttl_seconds: int) -> str:
        """A new ticket standing for `grant` for `ttl_seconds`."""
        ...

    async def redeem(self, ticket: str) -> Grant | None:
        """The grant of an unexpired, unused ticket — consuming it — or None."""
        ...


class SlotStore(Protocol):
    """How many sockets each user holds, across processes."""

    async def acquire(self, user_id: uuid.UUID, conn_id: str, limit: int, ttl: float) -> bool:
        """Take a slot for `conn_id` unless the user already holds `limit` live ones."""
        ...

    async def refresh(self, slots: list[tuple[uuid.UUID, str]], ttl: float) -> None:
        """Extend the given live slots by `ttl` seconds."""
        ...

    async def release(self, user_id: uuid.UUID, conn_id: str) -> None:
        """Give the slot back."""
        ...


class MemoryTicketStore:
    """Tickets in a dict (embedded default: one process)."""

    def __init__(self) -> None:
        self._tickets: dict[str, tuple[float, bytes]] = {}

    async def issue(self, grant: Grant, ttl_seconds: int) -> str:
        now = time.monotonic()
        self._tickets = {k: v for k, v in self._tickets.items() if v[0] > now}
        ticket = new_ticket()
        self._tickets[_digest(ticket)] = (now + ttl_seconds, grant.dumps())
        return ticket

    async def redeem(self, ticket: str) -> Grant | None:
        found = self._tickets.pop(_digest(ticket), None)
        if found is None or found[0] <= time.monotonic():
            return None
        return Grant.loads(found[1])


class RedisTicketStore:
    """Tickets as Redis keys with a TTL, redeemed with GETDEL (atomic: one winner)."""

    def __init__(self, redis: RedisClient, prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:ticket:"

    async def issue(self, grant: Grant, ttl_seconds: int) -> str:
        ticket = new_ticket()
        await self._redis.set(self._prefix + _digest(ticket), grant.dumps(), ex=ttl_seconds)
        return ticket

    async def redeem(self, ticket: str) -> Grant | None:
        raw = await self._redis.getdel(self._prefix + _digest(ticket))
        return Grant.loads(raw.encode() if isinstance(raw, str) else raw) if raw else None


class MemorySlotStore:
    """Slots in a dict (embedded default)."""

    def __init__(self) -> None:
        self._slots: dict[uuid.UUID, dict[str, float]] = {}

    async def acquire(self, user_id: uuid.UUID, conn_id: str, limit: int, ttl: float) -> bool:
        now = time.monotonic()
        live = {c: t for c, t in self._slots.get(user_id, {}).items() if t > now}
        if len(live) >= limit:
            return False
        live[conn_id] = now + ttl
        self._slots[user_id] = live
        return True

    async def refresh(self, slots: list[tuple[uuid.UUID, str]], ttl: float) -> None:
        expiry = time.monotonic() + ttl
        for user_id, conn_id in slots:
            self._slots.setdefault(user_id, {})[conn_id] = expiry

    async def release(self, user_id: uuid.UUID, conn_id: str) -> None:
        held = self._slots.get(user_id, {})
        held.pop(conn_id, None)
        if not held:
            self._slots.pop(user_id, None)


_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""


class RedisSlotStore:
    """Slots as one sorted set per user (member = connection id, score = expiry)."""

    def __init__(self, redis: RedisClient, prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:slots:"
        self._acquire = redis.register_script(_ACQUIRE)

    async def acquire(self, user_id: uuid.UUID, conn_id: str, limit: int, ttl: float) -> bool:
        now = time.time()
        args: list[str | int | float] = [now, now + ttl, limit, conn_id, int(ttl * 1000)]
        return bool(await self._acquire(keys=[self._prefix + str(user_id)], args=args))

    async def refresh(self, slots: list[tuple[uuid.UUID, str]], ttl: float) -> None:
        if not slots:
            return
        expiry = time.time() + ttl
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id, conn_id in slots:
                pipe.zadd(self._prefix + str(user_id), {conn_id: expiry}, xx=True)
                pipe.pexpire(self._prefix + str(user_id), int(ttl * 1000))
            await pipe.execute()

    async def release(self, user_id: uuid.UUID, conn_id: str) -> None:
        await self._redis.zrem(self._prefix + str(user_id), conn_id)
