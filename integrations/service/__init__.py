"""The application wing: one handler per command, the transition pipeline, the kinds.

Drivers (http/, ingest/, events/, replay/, evidence/, console/, bootstrap) call these
handlers; the handlers call the adapters (db/, payments/, carriers/, notifications/, risk
stores, geo/, verification/). No SQL of its own: that lives in db/.
"""
