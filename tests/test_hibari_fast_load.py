"""hibari loaded quickly (coach/speech/hibari_tables.py, hibari_runtime.py): the kept tables, the kept optimized model
and the bound FFT change nothing heard."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coach.speech.cache import ClipCache
from coach.speech.hibari_runtime import POCKETFFT, fft_stand_in
from coach.speech.hibari_tables import load_g2p, tables_key

ROOT = Path(__file__).resolve().parent.parent
TEXTS = [
    "Post-run mobility, standard level. 7 exercises, about 38 minutes.",
    "Exhale, belly and chest over the right thigh. Ninety-ninety, five times.",
    "Rest for 20 seconds. Next up: the couch stretch, 2 x 30 s each side.",
    "Read the lead line live; record the record.",  # words the tagger must read by part of speech
]
ASSETS = Path(__import__("importlib.util").util.find_spec("hibari").origin).parent / "assets"

# Each prints, per text, the sha256 of hibari's raw float32 output at coach's speed and seed.
AS_COACH_LOADS_IT = """
import hashlib, json, sys
from pathlib import Path
from coach.speech.cache import ClipCache
from coach.speech.hibari import HibariEngine, SEED
engine = HibariEngine()
engine.load(ClipCache(Path(sys.argv[1])))
tts = engine._loaded()
digests = [hashlib.sha256(tts(text, speed=0.8, seed=SEED).tobytes()).hexdigest() for text in json.loads(sys.argv[2])]
print(json.dumps({"digests": digests, "scipy.fft imported": "scipy.fft" in sys.modules, "attributes": sorted(vars(tts))}))
"""
AS_HIBARI_LOADS_IT = """
import hashlib, json, sys
from hibari import Hibari
from coach.speech.hibari import HibariEngine, SEED
tts = Hibari(voice="heart", model=str(HibariEngine().model_path), threads=1)
digests = [hashlib.sha256(tts(text, speed=0.8, seed=SEED).tobytes()).hexdigest() for text in json.loads(sys.argv[2])]
print(json.dumps({"digests": digests, "scipy.fft imported": "scipy.fft" in sys.modules, "attributes": sorted(vars(tts))}))
"""


def _run(code: str, cache: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", code, str(cache), json.dumps(TEXTS)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_coach_loads_hibari_to_speak_every_sample_as_hibari_itself_does(tmp_path):
    cache = tmp_path / "cache"
    reference = _run(AS_HIBARI_LOADS_IT, cache)
    first = _run(AS_COACH_LOADS_IT, cache)  # reads the JSON and the model, and keeps the tables and the optimized model
    assert len(list(cache.glob("voice-*.bin"))) == 2
    second = _run(AS_COACH_LOADS_IT, cache)  # from what it kept
    assert first["digests"] == second["digests"] == reference["digests"]
    assert first["attributes"] == reference["attributes"]  # set up as Hibari.__init__ sets itself up
    assert reference["scipy.fft imported"] and not first["scipy.fft imported"] and not second["scipy.fft imported"]


def test_the_kept_tables_give_the_same_phonemes_and_a_damaged_blob_is_read_again(tmp_path):
    from hibari.g2p import G2P

    cache = ClipCache(tmp_path)
    own = G2P(british=False)
    built = load_g2p(ASSETS, british=False, cache=cache)
    (blob,) = tmp_path.glob("voice-*.bin")
    kept = load_g2p(ASSETS, british=False, cache=cache)
    texts = [*TEXTS, "Ninety-ninety hip switches: 90/90, at 1:30, from 5 to 8 reps."]
    assert [kept(text) for text in texts] == [built(text) for text in texts] == [own(text) for text in texts]
    assert sorted(vars(kept)) == sorted(vars(own))

    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    assert cache.voice_data(tables_key(ASSETS, british=False)) is None  # the checksum sees it
    again = load_g2p(ASSETS, british=False, cache=cache)
    assert [again(text) for text in texts] == [own(text) for text in texts]
    assert cache.voice_data(tables_key(ASSETS, british=False)) is not None  # and it is kept whole again


def test_the_tables_are_kept_per_python_and_hibari_assets(tmp_path, monkeypatch):
    from coach.speech import hibari_tables

    key = tables_key(ASSETS, british=False)
    assert tables_key(ASSETS, british=True) != key
    monkeypatch.setattr(hibari_tables, "TABLES_SCHEMA", hibari_tables.TABLES_SCHEMA + 1)
    assert tables_key(ASSETS, british=False) != key
    copied = tmp_path / "assets"
    copied.mkdir()
    for path in ASSETS.glob("*.json*"):
        (copied / path.name).write_bytes(path.read_bytes())
    (copied / "normalize.json").write_text("{}")
    assert tables_key(copied, british=False) != tables_key(ASSETS, british=False)


def test_a_cache_that_cannot_be_written_still_loads_the_phonemizer(tmp_path):
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be")
    g2p = load_g2p(ASSETS, british=False, cache=ClipCache(blocked))
    assert g2p("Hold.")


@pytest.mark.parametrize("frames", [1, 37, 400])
def test_the_bound_fft_gives_scipy_ffts_every_bit(frames):
    import scipy.fft

    from coach.extensions import load_extension

    stand_in = fft_stand_in(load_extension(POCKETFFT))
    rng = np.random.default_rng(frames)
    signal = rng.standard_normal((frames, 1200)).astype(np.float32)
    spectrum = (rng.standard_normal((601, frames)) + 1j * rng.standard_normal((601, frames))).astype(np.complex64)
    ours, theirs = stand_in.rfft(signal.copy(), 1), scipy.fft.rfft(signal.copy(), axis=1, overwrite_x=True)
    assert ours.dtype == theirs.dtype == np.complex64 and ours.tobytes() == theirs.tobytes()
    ours, theirs = stand_in.irfft(spectrum.T, 1200, 1), scipy.fft.irfft(spectrum.T, n=1200, axis=1)
    assert ours.dtype == theirs.dtype == np.float32 and ours.tobytes() == theirs.tobytes()
    with pytest.raises(ValueError):
        stand_in.irfft(spectrum.T, 1000, 1)  # a crop scipy would do and hibari never asks for


def test_the_accent_coach_loads_is_the_bundled_voices():
    from hibari.voices import VOICES

    from coach.speech.hibari import BRITISH, VOICE

    assert VOICES[VOICE]["british"] is BRITISH


def test_a_lazy_table_answers_as_the_dict_it_keeps():
    from coach.speech.hibari_tables import LazyTable, kept_form, tables_from

    table = {f"word{number}": f"w{number}" for number in range(5000)} | {"naïve": "nɑˈiv", "": "empty"}
    tables = tables_from(kept_form({"lexicon": table, "tagger": {"tags": ["NN"], "weights": dict(table), "small": {"a": 1}}}))
    lazy = tables["lexicon"]
    assert isinstance(lazy, LazyTable) and isinstance(tables["tagger"]["weights"], LazyTable)
    assert tables["tagger"]["tags"] == ["NN"] and tables["tagger"]["small"] == {"a": 1}
    assert lazy.get("word42") == "w42" and lazy["naïve"] == "nɑˈiv" and lazy.get("") == "empty"
    assert lazy.get("missing") is None and lazy.get("missing", 0) == 0 and lazy.get(42) is None
    assert "word4999" in lazy and "word5000" not in lazy and 7 not in lazy
    with pytest.raises(KeyError):
        lazy["missing"]
    assert dict(lazy) == table and len(lazy) == len(table)


def test_a_kept_model_that_does_not_load_is_optimized_again(tmp_path):
    import onnxruntime

    from coach.speech.hibari import HibariEngine
    from coach.speech.hibari_runtime import inference_session, optimized_model_key

    engine, cache = HibariEngine(), ClipCache(tmp_path)
    key = optimized_model_key(engine.model_hash, onnxruntime.__version__)
    cache.store_voice_data(key, b"not a model")  # whole (its checksum holds) but not a graph
    session = inference_session(engine.model_path, engine.model_hash, cache)
    assert [output.name for output in session.get_outputs()]
    kept = cache.voice_data(key)
    assert kept is not None and kept != b"not a model"
    assert [output.name for output in inference_session(engine.model_path, engine.model_hash, cache).get_outputs()]


@pytest.mark.parametrize(("distribution", "package"), [("hibari-tts", "hibari"), ("PyYAML", "yaml"), ("numpy", "numpy")])
def test_an_installed_version_read_beside_its_package_is_the_one_importlib_metadata_reads(distribution, package):
    import importlib.util
    from importlib import metadata

    from coach.speech.engine import installed_version

    beside = Path(importlib.util.find_spec(package).origin).parent.parent
    assert installed_version(distribution, beside) == metadata.version(distribution)


def test_a_distribution_not_installed_has_no_version(tmp_path):
    from coach.speech.engine import installed_version

    with pytest.raises(ImportError):
        installed_version("no-such-distribution", tmp_path)
