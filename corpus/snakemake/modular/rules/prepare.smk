# Included by the main Snakefile: its rules are the main workflow's own.

rule contigs:
    input:
        config["genome"],
    output:
        "prepared/contigs.txt",
    shell:
        "grep '^>' {input} | cut -c2- > {output}"


rule sorted_peaks:
    input:
        config["peaks"],
    output:
        "prepared/peaks.sorted.bed",
    priority: 5
    shell:
        "LC_ALL=C sort -k1,1 -k2,2n {input} > {output}"
