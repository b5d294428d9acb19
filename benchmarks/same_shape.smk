# The DAG of `snakemake results/fom_summary.csv` made of plain rules, for
# benchmarks/up_to_date_check.py: `samples` generated and ingested files, one split and
# one preparation, per grid point and seed a network, its predictions and their
# evaluation, per grid point a seed ensemble (averaged, evaluated), one summary; each
# job the same output files as the workflow's, each rule a `touch` with one param, and
# no functions, logs or benchmarks. What Snakemake itself costs for a DAG of that shape.
SAMPLES = range(config["samples"])
POINTS = range(config["points"])
SEEDS = range(config["seeds"])
SPLITS = ["train", "validation", "test"]
MEMBERS = [f"seed-{seed}" for seed in SEEDS] + ["ensemble"]
MODEL = "r/{point}/seed-{seed}"
MEMBER = "r/{point}/{member}"


wildcard_constraints:
    point=r"\d+",
    seed=r"\d+",
    member=r"seed-\d+|ensemble",


rule summarise:
    input:
        expand(MEMBER + "/evaluation.json", point=POINTS, member=MEMBERS),
        expand(MODEL + "/training.json", point=POINTS, seed=SEEDS),
    output:
        [
            f"r/{name}.csv"
            for name in ("summary", "headline", "by_point", "by_signal", "by_point_signal")
        ],
    params:
        p=1,
    shell:
        "touch {output}"


rule generate:
    output:
        "r/toy/{sample}.csv",
    params:
        p=1,
    shell:
        "touch {output}"


rule ingest:
    input:
        "r/toy/{sample}.csv",
    output:
        "r/ingested/{sample}.parquet",
    params:
        p=1,
    shell:
        "touch {output}"


rule split:
    input:
        expand("r/ingested/{sample}.parquet", sample=SAMPLES),
    output:
        expand("r/split/{split}.parquet", split=SPLITS),
    params:
        p=1,
    shell:
        "touch {output}"


rule prepare:
    input:
        expand("r/split/{split}.parquet", split=SPLITS),
    output:
        expand("r/prepared/{split}.parquet", split=SPLITS),
    params:
        p=1,
    shell:
        "touch {output}"


rule train:
    input:
        "r/prepared/train.parquet",
        "r/prepared/validation.parquet",
    output:
        [f"{MODEL}/{name}" for name in ("model.keras", "history.csv", "training.json")],
    params:
        p=1,
    shell:
        "touch {output}"


rule predict:
    input:
        f"{MODEL}/model.keras",
        expand("r/prepared/{split}.parquet", split=SPLITS),
    output:
        [f"{MODEL}/predictions_{split}.{kind}" for split in SPLITS for kind in ("parquet", "csv")],
    params:
        p=1,
    shell:
        "touch {output}"


rule average:
    input:
        [
            f"r/{{point}}/seed-{seed}/predictions_{split}.parquet"
            for seed in SEEDS
            for split in SPLITS
        ],
    output:
        [
            f"r/{{point}}/ensemble/predictions_{split}.{kind}"
            for split in SPLITS
            for kind in ("parquet", "csv")
        ],
    params:
        p=1,
    shell:
        "touch {output}"


rule evaluate:
    input:
        [f"{MEMBER}/predictions_{split}.parquet" for split in SPLITS],
    output:
        [
            f"{MEMBER}/{name}"
            for name in (
                "fom_scan.csv",
                "evaluation.json",
                "fom_by_signal.csv",
                "overtraining_ks.csv",
            )
        ],
    params:
        p=1,
    shell:
        "touch {output}"
