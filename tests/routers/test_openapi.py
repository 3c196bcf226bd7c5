"""The app's OpenAPI document: readable operation ids, examples that are valid, one error shape.

The conformance run (tests/conformance/) checks the document against the running app."""

import re
from typing import Any

import httpx
from pydantic import BaseModel

from app.users.schemas import UserAdminRead, UserRead, UserRegister
from core.openapi import PROBLEM_MEDIA_TYPE, Problem

EXAMPLED: list[type[BaseModel]] = [
    UserRead,
    UserAdminRead,
    UserRegister,
    Problem,
]


async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get("/openapi.json")).json()
    return body


async def test_operation_ids_are_readable_and_stable(client: httpx.AsyncClient) -> None:
    ids = [
        operation["operationId"]
        for item in (await document(client))["paths"].values()
        for operation in item.values()
    ]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)+", i) for i in ids), ids
    assert {"auth_login", "users_read_me", "api_keys_create"} <= set(ids)


async def test_schema_names_are_plain_class_names(client: httpx.AsyncClient) -> None:
    """Two models or enums of one name get module-qualified names (`app__x__models__Role`),
    which typed clients refuse when the two differ: every schema keeps its own name."""
    names = (await document(client))["components"]["schemas"]
    assert [name for name in names if "__" in name] == []


async def test_the_main_schemas_have_valid_examples(client: httpx.AsyncClient) -> None:
    schemas = (await document(client))["components"]["schemas"]
    for model in EXAMPLED:
        examples = schemas[model.__name__]["examples"]
        assert examples, model
        for example in examples:
            model.model_validate(example)


async def test_errors_are_problems_and_a_422_is_not_fastapis(client: httpx.AsyncClient) -> None:
    doc = await document(client)
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for item in doc["paths"].values():
        for operation in item.values():
            assert all(r["description"] for r in operation["responses"].values()), operation
    key_create = doc["paths"]["/api/v1/users/me/api-keys"]["post"]["responses"]
    assert key_create["422"]["content"].keys() == {PROBLEM_MEDIA_TYPE}
    assert key_create["401"]["headers"]["WWW-Authenticate"]["required"]
    answer = await client.post("/api/v1/auth/register", json={"email": "nope"})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM_MEDIA_TYPE
    Problem.model_validate(answer.json())
