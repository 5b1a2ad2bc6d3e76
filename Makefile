# Everyday tasks. CI runs .ci/run, which adds the services (PostgreSQL,
# Redis) and the race detector.

GO ?= go

.PHONY: all test lint bench generate dev build

all: lint test

# The README's command. Tests that need PostgreSQL or Redis skip unless
# GHLKIT_TEST_POSTGRES_URL / GHLKIT_TEST_REDIS_URL are set.
test:
	$(GO) test ./...

# gofmt must list nothing; go vet must pass.
lint:
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; \
	if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Micro-benchmarks of every package (no tests). Load generators with
# comparable figures live in bench/: see the comment at the top of each.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Regenerate generated code (SDK iterators, webhook event types).
generate:
	$(GO) generate ./...

# Run the sandbox with demo data.
dev:
	$(GO) run ./cmd/ghlkit dev

build:
	$(GO) build -o ghlkit ./cmd/ghlkit
