# coach: `make run` exports the built-in post-run routine to an MP3; `make test` runs the whole suite.
.PHONY: setup neural run test bench soak fuzz clean

OUT ?= out/post-run.mp3

setup:
	@tools/setup.sh

# The optional neural voice (pip extra `neural`); `make test` installs it so its tests run too.
neural:
	@tools/setup.sh --neural

run: setup
	@mkdir -p $(dir $(OUT))
	@.venv/bin/coach export post-run -o $(OUT)

# The tests need the browser (web player) and the neural voice (its tests run too). One worker per core, a
# test file per worker (its fixtures set up once): many tests wait on real time (the null device, servers).
test:
	@tools/setup.sh --test --neural
	@.venv/bin/python -m pytest -q -n auto --dist loadfile

bench: neural
	@.venv/bin/python bench/run.py

# A real server under load for 10 minutes (`make soak MINUTES=1` for less): failures, memory, feed latency.
soak: neural
	@.venv/bin/python bench/soak.py --minutes $(or $(MINUTES),10)

fuzz: setup
	@.venv/bin/python tests/fuzzer.py --inputs 100000 --seed 1

clean:
	rm -rf out .pytest_cache .hypothesis
	find audio_cache -type f ! -name .gitkeep -delete
