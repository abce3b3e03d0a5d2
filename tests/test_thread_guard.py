"""The conftest guard: a test that leaves a thread running fails; threads a wider fixture owns may live as long as it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CONFTEST = Path(__file__).with_name("conftest.py")

SUITE = '''
import threading
import pytest

stop = threading.Event()


def test_leaves_a_thread_running():
    threading.Thread(target=stop.wait, name="forgotten", daemon=True).start()


def test_joins_its_thread():
    worker = threading.Thread(target=lambda: None)
    worker.start()
    worker.join()


@pytest.fixture(scope="module")
def server():
    done = threading.Event()
    worker = threading.Thread(target=done.wait, name="module-server", daemon=True)
    worker.start()
    yield
    done.set()
    worker.join()


def test_uses_a_module_fixture_with_a_thread(server):
    pass


def test_uses_it_again(server):
    stop.set()  # the forgotten thread may end now
'''


def test_a_test_that_leaves_a_thread_running_fails_and_the_others_pass(tmp_path):
    # A short grace: the leaked thread here never ends by itself, so the whole grace is waited out.
    (tmp_path / "conftest.py").write_text(CONFTEST.read_text().replace("THREAD_GRACE_SECONDS = 10.0", "THREAD_GRACE_SECONDS = 0.2"))
    (tmp_path / "test_suite.py").write_text(SUITE)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert "4 passed, 1 error" in run.stdout, run.stdout
    assert "ERROR test_suite.py::test_leaves_a_thread_running" in run.stdout, run.stdout
    assert "left a thread running after the test: forgotten" in run.stdout, run.stdout
    assert run.returncode == 1
