"""argo-migrate: a migration compiler from legacy workflow engines to Argo Workflows."""

__version__ = "0.1.0"
