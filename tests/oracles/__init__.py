"""Oracles: the real engines, installed in their own cached virtualenvs, that tell what a source file means.

argo-migrate never imports a source engine; only these separate environments do, and only from the tests.
"""
