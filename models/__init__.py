"""Framework-free core of Candor: the data contract, features, model wrappers and policy."""
