"""Translators of Airflow constructs, one module per family; ``frontends/airflow/operators.py`` is their table."""
