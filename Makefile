# coach: `make run` exports the built-in post-run routine to an MP3; `make test` runs the whole suite.
.PHONY: setup run test bench fuzz clean

OUT ?= out/post-run.mp3

setup:
	@tools/setup.sh

run: setup
	@mkdir -p $(dir $(OUT))
	@.venv/bin/coach export post-run -o $(OUT)

test: setup
	@.venv/bin/python -m pytest -q

bench: setup
	@.venv/bin/python bench/run.py

fuzz: setup
	@.venv/bin/python tests/fuzzer.py --inputs 100000 --seed 1

clean:
	rm -rf out .pytest_cache .hypothesis
	find audio_cache -type f ! -name .gitkeep -delete
