"""GET /metrics: numbers move with traffic, the pool is visible, access is protected as set."""

import socket
from typing import Any

import httpx
from prometheus_client import REGISTRY, Counter
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from tests.conftest import client_for

API = "/api/v1"


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, keyed by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def value(scrape: dict[Any, float], name: str, **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def scrape(client: httpx.AsyncClient, **headers: str) -> dict[Any, float]:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


async def test_request_counts_and_latency_move_with_traffic(client: httpx.AsyncClient) -> None:
    route = {"route": "/api/v1/users/me", "method": "GET"}
    before = await scrape(client)
    for _ in range(3):
        assert (await client.get(f"{API}/users/me")).status_code == 401
    await client.get(f"{API}/no-such-thing-{id(client)}")
    after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("plinth_http_requests_total", **route, status="401") == 3
    assert moved("plinth_http_request_duration_seconds_count", **route) == 3
    assert moved("plinth_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert not any("no-such-thing" in str(key) for key in after)  # raw paths never become labels


async def test_health_probes_and_scrapes_are_not_counted(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        assert (await client.get("/health/live")).status_code == 200
    scraped = await scrape(client)
    await scrape(client)
    assert not any("/health" in str(key) or "/metrics" in str(key) for key in scraped)


async def test_pool_usage_is_read_at_scrape_time(app: Any, client: httpx.AsyncClient) -> None:
    idle = await scrape(client)
    assert value(idle, "plinth_db_pool_size") >= 1
    async with app.state.database.engine.connect() as held:
        await held.execute(text("SELECT 1"))
        busy = await scrape(client)
    assert (
        value(busy, "plinth_db_pool_checked_out") == value(idle, "plinth_db_pool_checked_out") + 1
    )


async def test_counters_of_other_modules_are_exposed(client: httpx.AsyncClient) -> None:
    probe = Counter("plinth_test_probe", "A counter some other module registers.")
    try:
        probe.inc(2)
        scraped = await scrape(client)
    finally:
        REGISTRY.unregister(probe)
    assert value(scraped, "plinth_test_probe_total") == 2
    assert ("plinth_request_log_written_total", frozenset()) in scraped


async def test_token_protects_metrics(make_app: Any) -> None:
    async with make_app(METRICS_TOKEN="scrape-me") as app, client_for(app) as client:
        missing = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert right.status_code == 200
    assert "plinth_http_requests_total" in right.text


async def test_production_without_token_or_port_keeps_metrics_closed(make_app: Any) -> None:
    async with make_app(APP_ENV="production") as app, client_for(app) as client:
        response = await client.get("/metrics")
    assert response.status_code == 403
    assert "METRICS_TOKEN" in response.json()["detail"]


async def test_separate_port_serves_metrics_and_the_main_app_does_not(make_app: Any) -> None:
    port = free_port()
    env = {"METRICS_PORT": str(port), "APP_ENV": "production"}
    async with make_app(**env) as app, client_for(app) as client:
        await client.get(f"{API}/users/me")
        assert (await client.get("/metrics")).status_code == 404
        async with httpx.AsyncClient() as outside:
            response = await outside.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200
    assert "plinth_http_requests_total" in response.text


async def test_rate_limit_rejections_show_up(make_app: Any) -> None:
    async with make_app(RATE_LIMIT_ANONYMOUS="2/1m") as app, client_for(app) as client:
        before = await scrape(client)
        statuses = [(await client.get(f"{API}/users/me")).status_code for _ in range(4)]
        after = await scrape(client)
        exposition = (await client.get("/metrics")).text
    assert statuses.count(429) == 2
    rejected = [
        after[key] - before.get(key, 0.0)
        for key in after
        if key[0] == "plinth_ratelimit_rejections_total"
    ]
    assert sum(rejected) == 2
    assert "# TYPE plinth_cache_hits_total counter" in exposition
    assert "# TYPE plinth_cache_misses_total counter" in exposition
    assert (
        value(
            after,
            "plinth_http_requests_total",
            route="/api/v1/users/me",
            method="GET",
            status="429",
        )
        - value(
            before,
            "plinth_http_requests_total",
            route="/api/v1/users/me",
            method="GET",
            status="429",
        )
        == 2
    )
