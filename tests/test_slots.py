"""The in-flight bound: never more holders than slots, FIFO, and cancellation-safe."""

from __future__ import annotations

import asyncio

import pytest

from consigno_async._slots import Slots


async def test_never_more_holders_than_slots() -> None:
    slots = Slots(3)
    holding = peak = 0

    async def task() -> None:
        nonlocal holding, peak
        async with slots:
            holding += 1
            peak = max(peak, holding)
            await asyncio.sleep(0.001)
            holding -= 1

    await asyncio.gather(*(task() for _ in range(40)))
    assert peak == 3
    assert slots._value == 3
    assert not slots.locked()


async def test_waiters_are_served_first_in_first_out() -> None:
    slots = Slots(1)
    order: list[int] = []
    release = asyncio.Event()

    async def task(n: int) -> None:
        async with slots:
            order.append(n)
            if n == 0:
                await release.wait()

    tasks = [asyncio.create_task(task(n)) for n in range(5)]
    await asyncio.sleep(0.01)
    assert slots.locked()
    release.set()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]


async def test_a_cancelled_waiter_gives_up_its_place() -> None:
    slots = Slots(1)
    await slots.__aenter__()
    waiter = asyncio.create_task(slots.__aenter__())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert not slots._waiters
    await slots.__aexit__(None, None, None)
    assert slots._value == 1


async def test_a_slot_handed_to_a_task_cancelled_at_that_moment_passes_on() -> None:
    slots = Slots(1)
    await slots.__aenter__()
    first = asyncio.create_task(slots.__aenter__())
    second = asyncio.create_task(slots.__aenter__())
    await asyncio.sleep(0)
    slots.release()  # hands the slot to `first`...
    first.cancel()  # ...which is cancelled before it runs again
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1)  # the slot went on to `second`
    assert slots._value == 0
    slots.release()
    assert slots._value == 1


def test_at_least_one_slot() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        Slots(0)
