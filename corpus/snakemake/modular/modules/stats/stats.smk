# A reusable module: tallies one column of a table. The caller passes `column` in the module's config.

rule tally:
    input:
        "table.tsv",
    output:
        "tally.tsv",
    resources:
        licenses=1,
    params:
        column=config["column"],
    shell:
        "cut -f{params.column} {input} | LC_ALL=C sort | uniq -c > {output}"


rule total:
    input:
        "tally.tsv",
    output:
        "total.txt",
    shell:
        "wc -l < {input} > {output}"
