import asyncio

import pytest

from bot.errors import TryLater
from bot.services.admission import AdmissionGate


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def gate(
    capacity: int = 2, queue_limit: int = 10, cooldown_s: float = 0.0, clock: Clock | None = None
) -> AdmissionGate:
    return AdmissionGate(capacity=capacity, queue_limit=queue_limit, cooldown_s=cooldown_s, clock=clock or Clock())


async def test_runs_up_to_capacity_and_queues_the_rest_in_order() -> None:
    g = gate(capacity=2)
    tickets = [g.admit(user) for user in range(4)]
    order: list[int] = []
    release = asyncio.Event()

    async def use(index: int) -> None:
        async with tickets[index]:
            order.append(index)
            await release.wait()

    tasks = [asyncio.create_task(use(n)) for n in range(4)]
    await asyncio.sleep(0)
    assert order == [0, 1] and g.running == 2 and g.queued == 2
    assert [ticket.position for ticket in tickets] == [0, 0, 1, 2]
    release.set()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3] and g.running == 0


async def test_a_ticket_shows_its_future_place_before_it_joins_the_line() -> None:
    g = gate(capacity=1)
    first = g.admit(1)
    async with first:
        later = g.admit(2)
        assert later.position == 1
    assert later.position == 0


def test_one_generation_per_user_at_a_time() -> None:
    g = gate()
    ticket = g.admit(7)
    with pytest.raises(TryLater) as raised:
        g.admit(7)
    assert raised.value.key == "error.generation_in_progress"
    ticket.release()
    g.admit(7)


def test_cooldown_says_when_to_retry() -> None:
    clock = Clock()
    g = gate(cooldown_s=10, clock=clock)
    g.admit(7).release()
    clock.now = 3.2
    with pytest.raises(TryLater) as raised:
        g.admit(7)
    assert raised.value.key == "error.cooldown" and raised.value.params == {"seconds": 7}
    clock.now = 10.0
    g.admit(7)


async def test_a_full_queue_refuses_new_requests() -> None:
    g = gate(capacity=1, queue_limit=0)
    async with g.admit(1):
        with pytest.raises(TryLater) as raised:
            g.admit(2)
    assert raised.value.key == "error.queue_full"
    g.admit(2)


async def test_a_cancelled_waiter_gives_its_place_back() -> None:
    g = gate(capacity=1)
    holder, waiter = g.admit(1), g.admit(2)
    await holder.__aenter__()
    task = asyncio.create_task(waiter.__aenter__())
    await asyncio.sleep(0)
    assert g.queued == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert g.queued == 0
    g.admit(2)  # the user is free to ask again
    holder.release()
    assert g.running == 0


async def test_weighted_requests_take_several_slots() -> None:
    g = gate(capacity=4)
    parallel = g.admit(1, weight=4)
    async with parallel:
        other = g.admit(2)
        assert other.position == 1
    assert other.position == 0
