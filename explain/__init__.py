"""Explanations: SHAP contributions (LightGBM native TreeSHAP), plain-language reasons, plots."""
