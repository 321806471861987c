from __future__ import annotations

import threading

from soakwatch.targets.allocator import Allocator


def _drain(a: Allocator, want: int, give_back_every: int = 0) -> list[int]:
    seen: list[int] = []
    n = 0
    while (chunk := a.next(want)) is not None:
        start, count = chunk
        n += 1
        done = count // 2 if give_back_every and n % give_back_every == 0 else count
        seen.extend(range(start, start + done))
        a.done(start, count, done)
    return seen


def test_every_index_once_even_when_chunks_give_calls_back() -> None:
    a = Allocator(1000)
    assert sorted(_drain(a, 64, give_back_every=3)) == list(range(1000))


def test_barriers_see_every_earlier_call_finished() -> None:
    finished: list[int] = []
    at: list[tuple[int, int]] = []
    lock = threading.Lock()
    a = Allocator(1000, barrier_every=100, on_barrier=lambda calls: at.append((calls, len(finished))))

    def slot() -> None:
        while (chunk := a.next(7)) is not None:
            start, count = chunk
            with lock:
                finished.extend(range(start, start + count))
            a.done(start, count, count)

    threads = [threading.Thread(target=slot) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    a.final_barrier()
    assert at == [(n, n) for n in range(100, 1001, 100)]
    assert sorted(finished) == list(range(1000))


def test_final_barrier_for_a_partial_segment() -> None:
    at: list[int] = []
    a = Allocator(250, barrier_every=100, on_barrier=at.append)
    _drain(a, 10)
    a.final_barrier()
    assert at == [100, 200, 250]


def test_stop_ends_slots() -> None:
    a = Allocator(None)
    chunk = a.next(5)
    assert chunk == (0, 5)
    a.stop()
    a.done(0, 5, 5)
    assert a.next(5) is None
