"""The generated Python client (clients/python) against a live server on this leg: the whole
messenger flow through its typed functions, errors included, which come back as `Problem`."""

import uuid
from collections.abc import Iterator

import pytest
from plinth_client import AuthenticatedClient, Client
from plinth_client.api.v1_auth import auth_login as login
from plinth_client.api.v1_auth import auth_logout as logout
from plinth_client.api.v1_auth import auth_refresh as refresh
from plinth_client.api.v1_auth import auth_register as register
from plinth_client.api.v1_threads import (
    thread_messages_create,
    thread_messages_list,
    threads_create,
    threads_get,
)
from plinth_client.api.v1_users import users_read_me as read_me
from plinth_client.models import (
    BodyAuthLogin,
    CursorPageMessageRead,
    MessageCreate,
    MessageRead,
    Problem,
    RefreshRequest,
    ThreadCreate,
    ThreadRead,
    TokenResponse,
    UserRead,
    UserRegister,
)

from tests.conftest import Leg
from tests.realtime.conftest import start_app, stop
from tests.routers.test_ratelimit_processes import _wait_until_live

PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(leg: Leg, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One uvicorn process of the app on this leg's database (and Redis). Its data directory
    is its own, so the mail it writes on the embedded leg stays out of the email tests' outbox."""
    data_dir = tmp_path_factory.mktemp("client-server")
    url, process = start_app({"APP_DATA_DIR": str(data_dir)})
    try:
        _wait_until_live(url, process)
        yield url
    finally:
        stop([process])


async def sign_up(base: str, email: str) -> tuple[UserRead, TokenResponse]:
    anonymous = Client(base_url=base, raise_on_unexpected_status=True)
    data = UserRegister(email=email, password=PASSWORD, full_name=email.split("@")[0])
    user = await register.asyncio(client=anonymous, body=data)
    assert isinstance(user, UserRead), user
    form = BodyAuthLogin(username=email, password=PASSWORD)
    tokens = await login.asyncio(client=anonymous, body=form)
    assert isinstance(tokens, TokenResponse), tokens
    return user, tokens


async def test_the_messenger_flow_through_the_generated_client(server: str) -> None:
    ada, tokens = await sign_up(server, "ada@example.org")
    bruno, _ = await sign_up(server, "bruno@example.org")
    assert ada.email == "ada@example.org" and ada.email_verified is False
    client = AuthenticatedClient(base_url=server, token=tokens.access_token)

    thread = await threads_create.asyncio(
        client=client, body=ThreadCreate(title="Plans", participant_ids=[bruno.id])
    )
    assert isinstance(thread, ThreadRead), thread
    assert thread.title == "Plans"
    assert {p.user_id for p in thread.participants} == {ada.id, bruno.id}

    for text in ("first", "second", "third"):
        sent = await thread_messages_create.asyncio(
            thread.id, client=client, body=MessageCreate(body=text)
        )
        assert isinstance(sent, MessageRead), sent
        assert sent.author_id == ada.id
    page = await thread_messages_list.asyncio(thread.id, client=client, limit=2)
    assert isinstance(page, CursorPageMessageRead), page
    assert len(page.items) == 2 and page.has_more
    assert isinstance(page.next_cursor, str)
    rest = await thread_messages_list.asyncio(thread.id, client=client, cursor=page.next_cursor)
    assert isinstance(rest, CursorPageMessageRead), rest
    bodies = [m.body for m in [*page.items, *rest.items]]
    assert sorted(bodies) == ["first", "second", "third"] and not rest.has_more

    renewed = await refresh.asyncio(
        client=Client(base_url=server), body=RefreshRequest(refresh_token=tokens.refresh_token)
    )
    assert isinstance(renewed, TokenResponse), renewed
    assert renewed.refresh_token != tokens.refresh_token
    client = AuthenticatedClient(base_url=server, token=renewed.access_token)
    me = await read_me.asyncio(client=client)
    assert isinstance(me, UserRead) and me.id == ada.id

    ended = await logout.asyncio_detailed(client=client)
    assert ended.status_code == 204
    after = await read_me.asyncio_detailed(client=client)
    assert after.status_code == 401  # the session is over for its access tokens too
    assert isinstance(after.parsed, Problem) and after.parsed.status == 401


async def test_errors_come_back_as_typed_problems(server: str) -> None:
    _, tokens = await sign_up(server, "chen@example.org")
    client = AuthenticatedClient(base_url=server, token=tokens.access_token)

    missing = await threads_get.asyncio_detailed(uuid.uuid4(), client=client)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, Problem), missing.content
    assert missing.parsed.status == 404 and missing.parsed.title == "Not found"
    assert missing.headers["content-type"] == "application/problem+json"

    invalid = await threads_create.asyncio_detailed(client=client, body=ThreadCreate(title=""))
    assert invalid.status_code == 422
    problem = invalid.parsed
    assert isinstance(problem, Problem), invalid.content
    assert problem.status == 422 and problem.type_.endswith("/invalid-input")
    assert isinstance(problem.request_id, str)
    assert [error.loc for error in problem.errors or []] == [["body", "title"]]
