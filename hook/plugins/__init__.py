"""Plugins: one module each; registry.py lists them."""
