"""The messenger's share of tests/routers/test_bodies.py: JSON of the wrong shape is a 422."""

from typing import Any

import httpx

from tests.app.messenger.support import API, actor, new_thread


async def test_json_of_the_wrong_shape_is_still_422(
    client: httpx.AsyncClient, database: Any
) -> None:
    alice = await actor(database, "alice")
    thread = await new_thread(client, alice)
    url = f"{API}/threads/{thread['id']}/messages"
    for payload in ([{"body": "hi"}], {"body": 3}, {"text": "hi"}):
        response = await client.post(url, json=payload, headers=alice.headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["loc"][0] == "body"
    sent_as_text = await client.post(
        url, content=b'{"body": "hi"}', headers={**alice.headers, "content-type": "text/plain"}
    )
    assert sent_as_text.status_code == 400, sent_as_text.text
    assert (await client.get(url, headers=alice.headers)).json()["items"] == []
