"""The per-chapter mix cache: after an edit only the edited chapter is mixed and encoded, and the track is byte for byte
the cold export of the edited routine (the fake engine on post-run, real espeak on a small routine, a music bed)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from coach import session
from coach.cli.app import app
from coach.output.export import ExportOptions
from coach.routine import sources
from coach.speech import SpeechSettings
from coach.speech.fake import FakeEngine

runner = CliRunner()


def clear_mixes(cache: Path) -> None:
    """What a cold export lacks: encoded chunks, chapter records, gains and measured levels (the clips stay)."""
    for pattern in ("segment-*.bin", "chapter-*.json", "gain-*.json", "level-*.json"):
        for path in cache.glob(pattern):
            path.unlink()


def fake_export(routine_path: Path, cache: Path, output: Path):
    routine = session.load(str(routine_path))
    prepared = session.prepare(routine, SpeechSettings(engine="fake"), cache, jobs=1, engine=FakeEngine())
    return prepared.export(output, ExportOptions(jobs=2))


def edited(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def test_post_run_after_a_one_cue_edit_mixes_one_chapter_and_is_the_cold_export_byte_for_byte(tmp_path, monkeypatch):
    from coach.audio import mixer as mixer_module

    routine, cache = tmp_path / "post-run.yaml", tmp_path / "cache"
    text = sources.read(sources.resolve("post-run")).decode("utf-8")
    routine.write_text(text)
    first = fake_export(routine, cache, tmp_path / "first.mp3")
    again = fake_export(routine, cache, tmp_path / "again.mp3")
    assert again.chunks_encoded == 0 and (tmp_path / "again.mp3").read_bytes() == (tmp_path / "first.mp3").read_bytes()

    # A cue in the middle said another way: the fake voice's clip is as long as its text, so its chapter and the
    # later ones move; the later ones are taken from their records, unmixed.
    lines = text.splitlines()
    line = next(
        line for line in lines[len(lines) // 2 :]
        if line.strip().startswith("- say: ") and not line.rstrip().endswith((">-", ">", "|", "'", '"'))
    )
    routine.write_text(edited(text, line, line.rstrip().rstrip(".") + ", slowly."))
    mixed = []
    real_render = mixer_module.Mixer.render
    monkeypatch.setattr(mixer_module.Mixer, "render", lambda self, start, count: mixed.append(count) or real_render(self, start, count))
    after = fake_export(routine, cache, tmp_path / "edited.mp3")
    monkeypatch.undo()
    assert after.gain_db == first.gain_db  # one cue of many: the gain's step holds
    assert 0 < after.chunks_encoded <= first.chunks_encoded // 4
    longest_chapter = max(c.end_ms - c.start_ms for c in after.chapters) * 16_000 // 1000
    assert sum(mixed) <= 1.2 * longest_chapter  # one chapter (and its rolls) mixed, not the session

    clear_mixes(cache)
    cold = fake_export(routine, cache, tmp_path / "cold.mp3")
    assert cold.chunks_encoded > after.chunks_encoded  # (a chunk the same as an earlier one of the track is reused even cold)
    assert (tmp_path / "edited.mp3").read_bytes() == (tmp_path / "cold.mp3").read_bytes()


SMALL = """title: Three holds
exercises:
  - name: Calf stretch
    steps:
      - say: Lean into the wall, back heel down.
      - hold: 20s
  - name: Hamstring stretch
    steps:
      - say: Lie on your back and reach for the toes.
      - hold: 20s
  - name: Quad stretch
    steps:
      - say: Hold the ankle behind you.
      - hold: 20s
"""


def cli_export(routine: Path, output: Path, cache: Path, *extra: str) -> dict:
    result = runner.invoke(app, ["export", str(routine), "-o", str(output), "--json", "--cache-dir", str(cache), "--engine", "espeak", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def export_an_edit_that_holds_the_gain(routine: Path, cue: str, output: Path, cache: Path, first: dict, *extra: str) -> dict:
    """Export SMALL with `cue` said a little longer, trying other endings until the program gain is `first`'s.

    An edit moves the gain when the speech sits near a gain step's edge (espeak's clips of one text vary a little
    between runs, and SMALL has five cues); then, by design, no chunk is kept when the gain is new to the cache,
    which each try checks (a try back at the gain of an earlier try may rightly reuse that try's chapters).
    """
    gains_exported = {first["gain_db"]}
    for ending in (", slowly.", ", gently.", ", softly.", " now.", ", please.", " again."):
        routine.write_text(edited(SMALL, cue, f"{cue[:-1]}{ending}"))
        report = cli_export(routine, output, cache, *extra)
        if report["gain_db"] == first["gain_db"]:
            return report
        if report["gain_db"] not in gains_exported:
            assert report["chunks"]["reused"] == 0  # every chunk is encoded at the new gain
        gains_exported.add(report["gain_db"])
    raise AssertionError(f"every edit of {cue!r} moved the gain from {first['gain_db']} dB")


def test_a_small_routine_in_espeak_after_an_edit_is_its_cold_export_byte_for_byte(tmp_path):
    routine, cache = tmp_path / "small.yaml", tmp_path / "cache"
    routine.write_text(SMALL)
    first = cli_export(routine, tmp_path / "first.mp3", cache)
    edited_report = export_an_edit_that_holds_the_gain(routine, "reach for the toes.", tmp_path / "edited.mp3", cache, first)
    clear_mixes(cache)
    cold = cli_export(routine, tmp_path / "cold.mp3", cache)
    assert cold["chunks"]["encoded"] > edited_report["chunks"]["encoded"]
    assert (tmp_path / "edited.mp3").read_bytes() == (tmp_path / "cold.mp3").read_bytes()


def test_with_a_music_bed_an_unchanged_export_reuses_every_chapter_and_an_edit_matches_the_cold_export(tmp_path):
    song = tmp_path / "song.mp3"
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "anoisesrc=d=40:c=pink:a=0.3:seed=5"]
    subprocess.run([*command, "-ac", "2", "-ar", "44100", "-b:a", "128k", str(song)], check=True)
    routine, cache = tmp_path / "small.yaml", tmp_path / "cache"
    routine.write_text(SMALL)
    first = cli_export(routine, tmp_path / "first.mp3", cache, "--music", str(song))
    again = cli_export(routine, tmp_path / "again.mp3", cache, "--music", str(song))
    assert again["chunks"]["encoded"] == 0 and again["chunks"]["reused"] == first["chunks"]["encoded"]
    assert (tmp_path / "again.mp3").read_bytes() == (tmp_path / "first.mp3").read_bytes()
    after = export_an_edit_that_holds_the_gain(routine, "Hold the ankle behind you.", tmp_path / "edited.mp3", cache, first, "--music", str(song))
    assert after["chunks"]["reused"] >= 1  # the chapters before the edit: their music has not moved
    clear_mixes(cache)
    cold = cli_export(routine, tmp_path / "cold.mp3", cache, "--music", str(song))
    assert cold["chunks"]["encoded"] > after["chunks"]["encoded"]
    assert (tmp_path / "edited.mp3").read_bytes() == (tmp_path / "cold.mp3").read_bytes()
