"""Bodies that are not JSON are a 400 problem on every route that takes a JSON body, before
anything else runs; well-formed JSON of the wrong shape stays a 422 naming the fields."""

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from tests.helpers import actor


def json_body_operations(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path with ids filled in) of every operation with a JSON request body."""
    found = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                names = [p["name"] for p in operation.get("parameters", [])]
                filled = path.format_map(dict.fromkeys(names, uuid.uuid4()))
                found.append((method.upper(), filled))
    return found


async def test_a_body_that_is_not_json_is_400_on_every_route(
    app: FastAPI, client: httpx.AsyncClient, database: Any
) -> None:
    alice = await actor(database, "alice", scopes=("regular", "admin"))
    operations = json_body_operations(app)
    assert len(operations) > 10  # auth, users, keys, account flows…
    wrong = {}
    for method, url in operations:
        headers = {**alice.headers, "content-type": "application/json"}
        response = await client.request(method, url, content=b'{"x": ', headers=headers)
        body = response.json()
        shape = (response.status_code, response.headers["content-type"], body.get("status"))
        if shape != (400, "application/problem+json", 400):
            wrong[f"{method} {url}"] = shape
    assert wrong == {}
