"""Lead scoring: the feature matrix built from the contract and the calibrated scorer."""
