rule prepare_inputs:
    """Scaling fitted on the training split, applied to all; balanced training weights."""
    input:
        train=selected_split("train"),
        validation=selected_split("validation"),
        test=selected_split("test"),
    output:
        train=f"{RESULTS}/prepared/{{scaling}}-{{balancing}}/train.parquet",
        validation=f"{RESULTS}/prepared/{{scaling}}-{{balancing}}/validation.parquet",
        test=f"{RESULTS}/prepared/{{scaling}}-{{balancing}}/test.parquet",
        scaler=f"{RESULTS}/prepared/{{scaling}}-{{balancing}}/scaler.json",
    log:
        f"{RESULTS}/logs/prepare_inputs/{{scaling}}-{{balancing}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/prepare_inputs/{{scaling}}-{{balancing}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: threads_of("light")
    resources:
        **job_resources("light", "prepare_inputs"),
    params:
        code=code_version("scaling"),
        features=config["data"]["features"],
        classification=config["classification"],
        class_names=CLASS_NAMES,
        negative_weights=config["preprocessing"]["negative_weights"],
    script:
        "../scripts/prepare_inputs.py"
