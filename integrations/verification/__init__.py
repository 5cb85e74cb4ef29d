"""Verifier adapters (simulated, apprise SMS) and the challenge rows."""
