"""Print a user's event stream: `python scripts/listen.py EMAIL [BASE_URL]` (asks for the
password). The two-terminal walkthrough of docs/reference/websocket.md uses it."""

import asyncio
import getpass
import sys

import httpx
import websockets


async def listen(email: str, base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        form = {"username": email, "password": getpass.getpass(f"password for {email}: ")}
        login = await http.post("/api/v1/auth/login", data=form)
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        ticket = (await http.post("/api/v1/realtime/tickets", json={}, headers=headers)).json()
    url = base.replace("http", "ws", 1) + ticket["url"]
    protocols = [ticket["subprotocol"], f"ticket.{ticket['ticket']}"]
    async with websockets.connect(url, subprotocols=protocols) as socket:
        async for frame in socket:
            print(frame, flush=True)
            if '"heartbeat"' in str(frame):
                await socket.send('{"type": "ping"}')


if __name__ == "__main__":
    asyncio.run(listen(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "http://localhost:8080"))
