rule scale_and_balance:
    """Scaling fitted on the training split, applied to all; balanced training weights."""
    input:
        train=selected_split("train"),
        validation=selected_split("validation"),
        test=selected_split("test"),
    output:
        **{split: f"{PATHS.prepared}/{split}.parquet" for split in SPLITS},
        scaler=f"{PATHS.prepared}/scaler.json",
    log:
        f"{RESULTS}/logs/scale_and_balance/{{scaling}}-{{balancing}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/scale_and_balance/{{scaling}}-{{balancing}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "scale_and_balance"),
    params:
        code=code_version("preprocessing.scaling"),
        task=TASK,
        negative_weights=config["preprocessing"]["negative_weights"],
    script:
        "../scripts/scale_and_balance.py"
