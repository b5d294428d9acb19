rule export_onnx:
    """The network with its input scaling folded in, as ONNX for the analysis (CMSSW's
    ONNXRuntime), checked with ONNX Runtime against the test split's predictions."""
    input:
        model=f"{PATHS.model}/model.keras",
        scaler=prepared_file("scaler.json"),
        test_events=selected_split("test"),
        predictions=f"{PATHS.model}/predictions_test.csv",
    output:
        onnx=f"{PATHS.model}/model.onnx",
        check=f"{PATHS.model}/onnx_check.json",
    log:
        f"{RESULTS}/logs/export_onnx/{{point}}/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/export_onnx/{{point}}/seed-{{seed}}.tsv"
    conda:
        "../../envs/export.yaml"
    # A CPU job: tracing and checking a small network needs no GPU.
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "export_onnx"),
    params:
        code=code_version("learning.export"),
        task=TASK,
    script:
        "../scripts/export_onnx.py"


rule write_model_card:
    """What an analysis needs beside model.onnx: inputs in order with units, scaling,
    outputs, training settings, metrics and versions."""
    input:
        onnx=f"{PATHS.model}/model.onnx",
        scaler=prepared_file("scaler.json"),
        facts=f"{PATHS.model}/training.json",
        evaluation=f"{PATHS.model}/evaluation.json",
        check=f"{PATHS.model}/onnx_check.json",
    output:
        card=f"{PATHS.model}/model_card.json",
    log:
        f"{RESULTS}/logs/write_model_card/{{point}}/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/write_model_card/{{point}}/seed-{{seed}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "write_model_card"),
    params:
        code=code_version("learning.export"),
        task=TASK,
        units=canonical(config["plots"]["units"]),
    script:
        "../scripts/write_model_card.py"
