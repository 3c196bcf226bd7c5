"""The event stream of every app: tickets (with the bearer token), the WebSocket they open and
the gap-fill of any stream. The protocol is in docs/reference/websocket.md; Swagger cannot
show a WebSocket. What runs it is app/realtime.py; the streams and client frames are the
domains' (docs/realtime.md)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, status
from pydantic import BaseModel, Field

from app.users.realtime import grant_for
from core.deps import PrincipalDep, provide
from core.fields import Position
from core.openapi import operation_ids, problem_responses
from core.platform.realtime import SUBPROTOCOL, Hub, StreamPage, StreamReader, resume_positions
from core.platform.realtime.server import StreamMiddleware
from core.routing import read_only
from core.schemas import CreateSchema
from routers.gates import API_PREFIX

STREAM_PATH = f"{API_PREFIX}/realtime/ws"
PROTOCOL_DOCS = "https://github.com/plinth-dev/plinth#real-time-events"

router = APIRouter(
    prefix="/realtime", tags=["realtime"], generate_unique_id_function=operation_ids("realtime")
)
"""Included with the authenticated gate."""


class TicketCreate(CreateSchema):
    resume: Annotated[dict[str, Position], Field(max_length=500)] = Field(
        default_factory=dict,
        description="`{stream: last seq seen}` (a stream is `<kind>:<id>`, as in the events' "
        "`stream`; a bare `<id>` means a stream of the kind declared to take one, e.g. a "
        "thread): the socket first replays what came after.",
    )


class TicketRead(BaseModel):
    ticket: str = Field(description="Single use; offer it as the subprotocol `ticket.<ticket>`.")
    expires_in: int = Field(description="Seconds left to open the socket with it.")
    url: str = Field(description="Where to open the WebSocket.")
    subprotocol: str = Field(description="Offer it beside the ticket; the server answers it.")


@router.post("/tickets", status_code=status.HTTP_201_CREATED, response_model=TicketRead)
async def issue_ticket(request: Request, data: TicketCreate, principal: PrincipalDep) -> Any:
    """A single-use ticket for the event stream, valid for a few seconds. Open
    `new WebSocket(url, ["plinth.v1", "ticket." + ticket])`; the protocol:
    docs/reference/websocket.md."""
    assert principal is not None
    hub: Hub = request.app.state.realtime
    resume = resume_positions(data.resume)  # a bare id: the kind declared with `bare_ids`
    ticket = await hub.issue_ticket(grant_for(principal, {"resume": resume}))
    return TicketRead(
        ticket=ticket,
        expires_in=hub.settings.ticket_ttl_seconds,
        url=STREAM_PATH,
        subprotocol=SUBPROTOCOL,
    )


StreamKey = Annotated[
    str, Path(max_length=200, description="`<kind>:<id>`, as in the events' `stream`.")
]


@router.get("/streams/{stream}/events", response_model=StreamPage, responses=problem_responses(404))
@read_only
async def stream_events(
    stream: StreamKey,
    reader: Annotated[StreamReader, Depends(provide(StreamReader))],
    after: Annotated[Position, Query(description="The last seq you saw.")] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> Any:
    """A stream's kept events after `after`, oldest first: how a client fills a gap in `seq`.
    A stream you may not read answers 404, as one that does not exist."""
    return await reader.page(stream, after, limit)


def install_stream(app: FastAPI) -> None:
    """The socket itself at `STREAM_PATH`, authenticated by its ticket (browsers cannot send a
    bearer header); served outside the middleware stack (see `StreamMiddleware`), so call this
    after every other middleware was added. The protocol: docs/reference/websocket.md."""
    app.add_middleware(StreamMiddleware, path=STREAM_PATH)
