"""Run by Snakemake's ``script:`` directive: the ``snakemake`` object names the job's files and params."""
from pathlib import Path

snakemake = globals()["snakemake"]  # injected by Snakemake
lines = Path(snakemake.input[0]).read_text().split()
with open(snakemake.output[0], "w") as out:
    for i, seq in enumerate(lines):
        gc = sum(seq.count(b) for b in "GC")
        out.write(f"{snakemake.wildcards.sample}\t{i}\t{gc * 100 // len(seq)}\t{snakemake.params.label}\n")
