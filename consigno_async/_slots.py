"""
The client's in-flight bound: a first-in, first-out semaphore that is cheap when free.

Every request enters it, so its uncontended path matters: :class:`Slots` takes a free slot
with one test and one subtraction (``asyncio.Semaphore`` goes through four more frames and a
scan of its waiters). When no slot is free, a task queues; a released slot passes straight
to the first waiter still waiting, so a newcomer cannot overtake a queued task.

>>> import asyncio
>>> async def demo() -> list[int]:
...     slots, order = Slots(1), []
...     async def task(n: int) -> None:
...         async with slots:
...             order.append(n)
...             await asyncio.sleep(0)
...     await asyncio.gather(*(task(n) for n in range(3)))
...     return order
>>> asyncio.run(demo())
[0, 1, 2]
"""

from __future__ import annotations

import asyncio
import collections
import contextlib

__all__ = ["Slots"]


class Slots:
    """``async with slots:`` holds one of ``value`` slots (the free count is ``_value``)."""

    __slots__ = ("_value", "_waiters")

    def __init__(self, value: int) -> None:
        if value < 1:
            raise ValueError("at least one slot")
        self._value = value
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    def locked(self) -> bool:
        """True when a newcomer would have to wait."""
        return self._value == 0 or bool(self._waiters)

    async def __aenter__(self) -> None:
        if self._value > 0 and not self._waiters:
            self._value -= 1
            return
        await self._wait()

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()

    async def _wait(self) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                # The slot was handed over just as this task was cancelled: pass it on.
                self.release()
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        """Give a slot back: to the first task still waiting, else to the free count."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._value += 1
