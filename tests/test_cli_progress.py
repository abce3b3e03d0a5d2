"""The synthesis progress bar: drawn on a terminal's stderr from render's callback, nowhere else."""

from __future__ import annotations

from coach.cli.progress import SynthesisBar


def test_the_bar_draws_on_a_terminal_and_goes_away_when_closed(capsys, monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    with SynthesisBar() as bar:
        for done in range(0, 11):
            bar(done, 10)
        assert bar._bar is not None
    assert bar._bar is None
    out, err = capsys.readouterr()
    assert out == "" and "synthesizing speech" in err


def test_the_bar_draws_nothing_when_stderr_is_not_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    with SynthesisBar() as bar:
        bar(0, 10)
        bar(10, 10)
    assert capsys.readouterr() == ("", "")
