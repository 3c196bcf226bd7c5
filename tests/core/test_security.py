"""core.security: password hashing never competes with the event loop for a core."""


async def test_password_hashing_runs_on_low_priority_threads() -> None:
    import asyncio
    import os
    import threading

    from core.security import HASHING_NICENESS, hashing_executor

    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(hashing_executor(), niceness) == HASHING_NICENESS
    assert niceness() == 0  # the event loop's thread keeps its priority
