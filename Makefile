# Two commands do all the set-up: `make demo` runs a whole campaign on the sample
# roster, `make test` runs every test. Both create the virtualenv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ROSTER ?= deploy/sample/yancheng-dibao-sample.csv deploy/sample/yancheng-tekun-sample.xlsx
DISTRICT ?= 411103
OUT ?= out
SEED ?= 2022

.PHONY: demo test install lint bench-roster bench-redemption

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip<26" "setuptools<82" wheel
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

demo: install
	$(BIN)/python -m simulator --roster $(ROSTER) --district $(DISTRICT) --out $(OUT) --seed $(SEED)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Import and publish a generated roster of PERSONS (default 1,000,000) on the local
# RabbitMQ and PostgreSQL; prints the figures recorded in docs/benchmarks.md.
PERSONS ?= 1000000
bench-roster: install
	$(BIN)/python -m benchmarks.roster_scale --persons $(PERSONS)

# Redeem vouchers through the gateway on the local PostgreSQL and RabbitMQ at 1, 4, 16
# and 32 clients, beside a bare nameko RPC; see docs/benchmarks.md.
bench-redemption: install
	$(BIN)/python -m benchmarks.redemption_throughput $(BENCH_ARGS)
