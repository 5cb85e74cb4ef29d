"""What the operations console needs from the store, without Prefect: the cases waiting for a
person, the shop's health, one order's timeline, routing of outbox events to console work, the
automation jobs (settlements, carrier chases, refund triage) and the Prometheus metrics."""
