"""Risk adapters: rule-set config, backtest, optional learned scorer."""
