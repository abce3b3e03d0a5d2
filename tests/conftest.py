"""What every test shares: no test reads or writes the user's own session history, and none leaves a thread running."""

from __future__ import annotations

import threading

import pytest

# Threads that may outlive the test that started them: ones truly meant to last as long as the process.
# (None so far. OpenBLAS's worker threads are native, not Python threads, and not seen here.)
PROCESS_WIDE_THREADS: dict[str, str] = {}  # thread name -> why it may stay

# A leaked thread is given this long to end on its own before the test is failed: a bound on waiting for
# a thread that is already finishing, not a speed requirement (a thread that keeps running waits it out).
THREAD_GRACE_SECONDS = 10.0


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory, monkeypatch):
    """$XDG_DATA_HOME, where `coach play` records sessions, in a temporary directory (children inherit it)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))


class _ThreadWatch:
    """The threads alive before each test, and those a wider-scoped fixture started, which live as long as it."""

    def __init__(self) -> None:
        self.before: set[threading.Thread] = set()
        self.fixture_threads: dict[int, set[threading.Thread]] = {}  # id(fixturedef) -> threads its setup started
        self.ending: set[threading.Thread] = set()  # threads of fixtures finished during this test's teardown

    def leaked(self) -> list[threading.Thread]:
        owned = set().union(*self.fixture_threads.values())
        suspects = [
            thread
            for thread in threading.enumerate()
            if (thread not in self.before and thread not in owned or thread in self.ending)
            and thread is not threading.current_thread()
            and thread.name not in PROCESS_WIDE_THREADS
        ]
        for thread in suspects:
            thread.join(THREAD_GRACE_SECONDS / len(suspects))
        return [thread for thread in suspects if thread.is_alive()]


_watch = _ThreadWatch()


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """Threads a module- or session-wide fixture starts belong to it: they may run until it is finished."""
    before = set(threading.enumerate())
    try:
        return (yield)
    finally:
        started = set(threading.enumerate()) - before
        if fixturedef.scope != "function" and started:
            _watch.fixture_threads.setdefault(id(fixturedef), set()).update(started)


def pytest_fixture_post_finalizer(fixturedef, request):
    """A finished fixture's threads must end with it."""
    _watch.ending |= _watch.fixture_threads.pop(id(fixturedef), set())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    _watch.before = set(threading.enumerate())
    _watch.ending = set()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Fail the test (an error at its teardown) if a thread it, or a fixture finished with it, started is still running."""
    result = yield
    leaked = _watch.leaked()
    if leaked:
        names = ", ".join(f"{thread.name} (target {getattr(getattr(thread, '_target', None), '__qualname__', '?')})" for thread in leaked)
        raise AssertionError(f"left a thread running after the test: {names}")
    return result
