"""Aixin services: one package per process, each owning its own database."""
