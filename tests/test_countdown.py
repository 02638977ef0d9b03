"""The countdown timing both adapters share (bot/adapters/countdown.py), on a clock the test
moves by hand: when ticks fall, the gap between edits, and stopping."""

from __future__ import annotations

from bot.adapters.countdown import CountdownTasks, Tick, footer
from tests.manual_clock import ManualClock, eventually


def recorder(clock: ManualClock, seen: list[tuple[float, float]], *, keep: bool = True) -> Tick:
    async def tick(remaining: float) -> bool:
        seen.append((clock.time(), remaining))
        return keep

    return tick


async def run_out(clock: ManualClock, tasks: CountdownTasks[str]) -> None:
    while tasks.running:
        await clock.next_tick()
        await eventually(lambda: clock.sleeping > 0 or tasks.running == 0, "the tick's edit")


async def test_ticks_fall_on_the_interval_but_never_closer_than_min_gap() -> None:
    clock = ManualClock()
    tasks = CountdownTasks[str](interval=5, min_gap=3, clock=clock)
    seen: list[tuple[float, float]] = []
    # 12 s: the first edit waits min_gap after sending (not 2 s), then 5, then the end.
    tasks.begin("m", recorder(clock, seen), 12)
    await run_out(clock, tasks)
    assert seen == [(3, 9), (7, 5), (12, 0)]
    assert [footer(left) for _, left in seen] == ["⏱ 0:09 left", "⏱ 0:05 left", "⏱ Time!"]

    # An interval below min_gap is raised to it: edits stay 3 s apart, even past the end.
    clock, seen = ManualClock(), []
    tasks = CountdownTasks[str](interval=1, min_gap=3, clock=clock)
    tasks.begin("m", recorder(clock, seen), 7)
    await run_out(clock, tasks)
    assert seen == [(3, 4), (6, 1), (9, 0)]


async def test_a_failed_edit_stops_and_a_new_countdown_replaces_the_old() -> None:
    clock = ManualClock()
    tasks = CountdownTasks[str](clock=clock)
    gone: list[tuple[float, float]] = []
    tasks.begin("gone", recorder(clock, gone, keep=False), 30)
    await run_out(clock, tasks)
    assert gone == [(5, 25)]  # the message was deleted: no more edits

    old: list[tuple[float, float]] = []
    new: list[tuple[float, float]] = []
    tasks.begin("m", recorder(clock, old), 30)
    await eventually(lambda: clock.sleeping == 1, "the first countdown asleep")
    tasks.begin("m", recorder(clock, new), 30)  # the same message: the old one stops
    assert tasks.running == 1
    await run_out(clock, tasks)
    assert old == [] and [left for _, left in new] == [25, 20, 15, 10, 5, 0]


async def test_close_stops_every_countdown() -> None:
    clock = ManualClock()
    tasks = CountdownTasks[str](clock=clock)
    seen: list[tuple[float, float]] = []
    tasks.begin("a", recorder(clock, seen), 30)
    tasks.begin("b", recorder(clock, seen), 30)
    await eventually(lambda: clock.sleeping == 2, "both countdowns asleep")
    await tasks.close()
    assert tasks.running == 0 and clock.sleeping == 0
    clock.advance(60)
    assert seen == []


async def test_the_default_clock_is_the_event_loops() -> None:
    # Real time, so only what no machine speed can change: it ends, counting down to zero.
    tasks = CountdownTasks[str](interval=0.05, min_gap=0.05)
    seen: list[float] = []

    async def tick(remaining: float) -> bool:
        seen.append(remaining)
        return True

    tasks.begin("m", tick, 0.2)
    await eventually(lambda: tasks.running == 0, "the countdown to end")
    assert seen and seen[-1] == 0 and seen == sorted(seen, reverse=True)
