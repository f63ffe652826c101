"""Helpers for scripts/prepare_demo_data.py (geometry simplification, simulations, writers)."""
