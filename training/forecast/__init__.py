"""Sales forecasting: read and validate weekly sales, fit direct LightGBM boosters, backtest
from rolling origins against seasonal-naive and AutoETS baselines, calibrate conformal
intervals, log to MLflow and register ``candor-sales-forecaster`` behind a champion gate."""
