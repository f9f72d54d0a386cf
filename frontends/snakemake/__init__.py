"""Snakemake frontend (planned): workflows read with Snakemake's own parser. Translates nothing yet."""
