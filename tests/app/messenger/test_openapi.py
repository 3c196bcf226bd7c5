"""The messenger's part of the OpenAPI document (the rest: tests/routers/test_openapi.py)."""

import httpx
from pydantic import BaseModel

from app.messenger.schemas import MessageCreate, MessageRead, ThreadCreate, ThreadRead
from core.openapi import PROBLEM_MEDIA_TYPE
from tests.routers.test_openapi import document

EXAMPLED: list[type[BaseModel]] = [ThreadCreate, ThreadRead, MessageCreate, MessageRead]


async def test_its_operations_and_schemas(client: httpx.AsyncClient) -> None:
    doc = await document(client)
    ids = {
        operation["operationId"] for item in doc["paths"].values() for operation in item.values()
    }
    assert {"threads_create", "thread_messages_list"} <= ids
    for model in EXAMPLED:
        examples = doc["components"]["schemas"][model.__name__]["examples"]
        assert examples, model
        for example in examples:
            model.model_validate(example)
    thread_create = doc["paths"]["/api/v1/threads"]["post"]["responses"]
    assert thread_create["422"]["content"].keys() == {PROBLEM_MEDIA_TYPE}
    assert thread_create["401"]["headers"]["WWW-Authenticate"]["required"]
