# A plain DAG of config["jobs"] jobs: 13 sources, the rest one touch each, one target.
N = config["jobs"] - 14
SOURCES = range(13)


rule all:
    input:
        expand("p/{i}.txt", i=range(N)),


rule leaf:
    input:
        lambda w: f"s/{int(w.i) % 13}.txt",
    output:
        "p/{i}.txt",
    params:
        value=1,
    shell:
        "touch {output}"


rule source:
    output:
        "s/{j}.txt",
    shell:
        "touch {output}"
