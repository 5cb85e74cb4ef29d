"""The two served review patterns the console was measured against (bench/console_load.py):
a served flow that waits in `pause_flow_run` (its process stays alive), and one that
`suspend_flow_run`s (its process exits; a new one runs the answer).

    python bench/review_patterns.py serve      # serves both deployments (used by the bench)
"""

from __future__ import annotations

import sys

from prefect import flow, serve
from prefect.flow_runs import pause_flow_run, suspend_flow_run

from flows.forms import ReviewDecision as Decision  # the console's own form


@flow(name="bench-paused-review", flow_run_name="paused-{n}")
def paused_review(n: int) -> str:
    answer = pause_flow_run(wait_for_input=Decision, timeout=3600, poll_interval=1)
    return answer.decision


@flow(name="bench-suspended-review", flow_run_name="suspended-{n}")
def suspended_review(n: int) -> str:
    answer = suspend_flow_run(wait_for_input=Decision, key="answer")
    return answer.decision


if __name__ == "__main__" and sys.argv[1:] == ["serve"]:
    serve(paused_review.to_deployment(name="paused"),
          suspended_review.to_deployment(name="suspended"),
          query_seconds=1, print_starting_message=False)
