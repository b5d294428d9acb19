rule export_onnx:
    """The network with its input scaling folded in, as ONNX for the analysis (CMSSW's
    ONNXRuntime), checked with ONNX Runtime against the test split's predictions."""
    input:
        model=f"{MODEL}/model.keras",
        scaler=prepared_file("scaler.json"),
        test_events=selected_split("test"),
        predictions=f"{MODEL}/predictions_test.csv",
    output:
        onnx=f"{MODEL}/model.onnx",
        check=f"{MODEL}/onnx_check.json",
    log:
        f"{RESULTS}/logs/export_onnx/{{point}}/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/export_onnx/{{point}}/seed-{{seed}}.tsv"
    conda:
        "../../envs/export.yaml"
    # A CPU job: tracing and checking a small network needs no GPU.
    threads: threads_of("light")
    resources:
        **job_resources("light", "export_onnx"),
    params:
        code=code_version("learning.export"),
        classification=config["classification"],
        class_names=CLASS_NAMES,
    script:
        "../scripts/export_onnx.py"


rule write_model_card:
    """What an analysis needs beside model.onnx: inputs in order with units, scaling,
    outputs, training settings, metrics and versions."""
    input:
        onnx=f"{MODEL}/model.onnx",
        scaler=prepared_file("scaler.json"),
        facts=f"{MODEL}/training.json",
        evaluation=f"{MODEL}/evaluation.json",
        check=f"{MODEL}/onnx_check.json",
    output:
        card=f"{MODEL}/model_card.json",
    log:
        f"{RESULTS}/logs/write_model_card/{{point}}/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/write_model_card/{{point}}/seed-{{seed}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: threads_of("light")
    resources:
        **job_resources("light", "write_model_card"),
    params:
        code=code_version("learning.export"),
        classification=config["classification"],
        class_names=CLASS_NAMES,
        units=canonical(config["plots"]["units"]),
    script:
        "../scripts/write_model_card.py"
