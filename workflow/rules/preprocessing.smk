rule scale_and_balance:
    """Scaling fitted on the training split, applied to all; balanced training weights."""
    input:
        train=selected_split("train"),
        validation=selected_split("validation"),
        test=selected_split("test"),
    output:
        **{split: f"{PREPARED}/{split}.parquet" for split in SPLITS},
        scaler=f"{PREPARED}/scaler.json",
    log:
        f"{RESULTS}/logs/scale_and_balance/{{scaling}}-{{balancing}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/scale_and_balance/{{scaling}}-{{balancing}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: threads_of("light")
    resources:
        **job_resources("light", "scale_and_balance"),
    params:
        code=code_version("preprocessing.scaling"),
        features=config["data"]["features"],
        classification=config["classification"],
        class_names=CLASS_NAMES,
        negative_weights=config["preprocessing"]["negative_weights"],
    script:
        "../scripts/scale_and_balance.py"
