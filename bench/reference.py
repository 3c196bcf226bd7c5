"""The minimal reference: plain FastAPI + asyncpg + PyJWT, the least work our endpoints can do.

    REF_DSN=postgresql://... REF_SECRET=... uvicorn bench.reference:app --workers N

GET /health: a bare route. GET /me: verify the JWT (same claims as ours), select one row by
primary key, return JSON. GET /users: the same JWT check, 100 users and the total.
"""

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg
import jwt
from fastapi import FastAPI, Header, HTTPException, Query

ME_QUERY = (
    "SELECT id, email, full_name, scopes, is_active, created_at, updated_at "
    "FROM users WHERE id = $1"
)
LIST_QUERY = (
    "SELECT id, email, full_name, scopes, is_active, created_at, updated_at, deleted_at "
    "FROM users WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"
)
COUNT_QUERY = "SELECT count(*) FROM users WHERE deleted_at IS NULL"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    pool_size = int(os.environ.get("REF_POOL_SIZE", "10"))
    app.state.pool = await asyncpg.create_pool(os.environ["REF_DSN"], max_size=pool_size)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


def _claims(authorization: str | None) -> dict[str, Any]:
    scheme, _, token = (authorization or "").partition(" ")
    try:
        if scheme.lower() != "bearer":
            raise jwt.InvalidTokenError("no bearer token")
        return jwt.decode(
            token,
            os.environ["REF_SECRET"],
            algorithms=["HS256"],
            audience=os.environ.get("REF_AUDIENCE", "plinth-api"),
            issuer=os.environ.get("REF_ISSUER", "plinth"),
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.PyJWTError as exc:
        raise HTTPException(401, "invalid token") from exc


def _user(row: asyncpg.Record) -> dict[str, Any]:
    return {**dict(row), "id": str(row["id"])}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/me")
async def me(authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    user_id = uuid.UUID(_claims(authorization)["sub"])
    row = await app.state.pool.fetchrow(ME_QUERY, user_id)
    if row is None:
        raise HTTPException(401, "invalid token")
    return _user(row)


@app.get("/users")
async def users(
    authorization: Annotated[str | None, Header()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    _claims(authorization)
    async with app.state.pool.acquire() as connection:
        rows = await connection.fetch(LIST_QUERY, limit, offset)
        total = await connection.fetchval(COUNT_QUERY)
    return {"items": [_user(r) for r in rows], "total": total, "limit": limit, "offset": offset}
