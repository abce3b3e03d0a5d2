# coach: `make run` exports the built-in post-run routine to an MP3; `make test` runs the whole suite.
.PHONY: setup run test bench clean

OUT ?= out/post-run.mp3

setup:
	@tools/setup.sh

run: setup
	@mkdir -p $(dir $(OUT))
	@.venv/bin/coach export post-run -o $(OUT)

test:
	@tools/setup.sh --test
	@.venv/bin/python -m pytest -q

bench: setup
	@.venv/bin/python bench/run.py

clean:
	rm -rf out .pytest_cache .hypothesis
	find audio_cache -type f ! -name .gitkeep -delete
