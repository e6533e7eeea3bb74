# The two commands a newcomer needs. Both are idempotent.
.PHONY: run test

run:  ## run web, worker and beat on this machine (SQLite, embedded broker)
	@bash scripts/run.sh

test:  ## lint and run the whole test suite against PostgreSQL and Redis
	@bash scripts/test.sh
