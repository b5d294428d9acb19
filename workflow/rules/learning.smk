rule train_model:
    """One network per grid point and seed; the best validation-loss epoch is kept, and
    exported with its input scaling as ONNX (checked against Keras on the validation
    split) for the analysis and for every later job of the model."""
    input:
        train=prepared_split("train"),
        validation=prepared_split("validation"),
        scaler=prepared_file("scaler.json"),
        validation_events=selected_split("validation"),
    output:
        **trained_files(PATHS.model),
    log:
        f"{RESULTS}/logs/train_model/{{point}}/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_model/{{point}}/seed-{{seed}}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: config["resources"]["training"]["threads"]
    resources:
        **job_resources(config["resources"]["training"], "train_model"),
    params:
        code=code_version("learning.training"),
        task=TASK,
        settings=lambda wildcards: POINT_SETTINGS[wildcards.point],
        seed=lambda wildcards: int(wildcards.seed),
        backend=config["training"]["backend"],
    script:
        "../scripts/train_model.py"


rule predict:
    """Network outputs for every event of every split, with weight, process and class:
    the exported model run by ONNX Runtime on the events' raw variables."""
    input:
        **{split: selected_split(split) for split in SPLITS},
        model=f"{PATHS.model}/model.onnx",
    output:
        # Parquet for the later rules (a quarter of the size), the CSV beside it for people
        **prediction_files(PATHS.model),
        **at_mass_points(PATHS.model),
    log:
        f"{RESULTS}/logs/predict/{{point}}/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/predict/{{point}}/seed-{{seed}}.tsv"
    conda:
        "../../envs/inference.yaml"
    threads: config["resources"]["prediction"]["threads"]
    resources:
        **job_resources(config["resources"]["prediction"], "predict"),
    params:
        **mass_point_params(),
        code=code_version("learning.prediction"),
        task=TASK,
    script:
        "../scripts/predict.py"


use rule train_model as train_model_all_points with:
    input:
        **{
            split: comparison_prepared(COMPARISON.all_points_prepared, f"{split}.parquet")
            for split in ("train", "validation")
        },
        scaler=comparison_prepared(COMPARISON.all_points_prepared, "scaler.json"),
        validation_events=selected_split("validation"),
    output:
        **trained_files(COMPARISON.all_points_model),
    log:
        f"{RESULTS}/logs/train_model/{{point}}/all_points/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_model/{{point}}/all_points/seed-{{seed}}.tsv"
    params:
        code=code_version("learning.training"),
        task=TASK,
        settings=lambda wildcards: POINT_SETTINGS[wildcards.point],
        seed=lambda wildcards: int(wildcards.seed),
        backend=config["training"]["backend"],
        name=lambda wildcards: f"{wildcards.point}/all_points/seed-{wildcards.seed}",


use rule train_model as train_model_dedicated with:
    input:
        **{
            split: comparison_prepared(COMPARISON.dedicated_prepared, f"{split}.parquet")
            for split in ("train", "validation")
        },
        scaler=comparison_prepared(COMPARISON.dedicated_prepared, "scaler.json"),
        validation_events=selected_split("validation"),
    output:
        **trained_files(COMPARISON.dedicated_model),
    log:
        f"{RESULTS}/logs/train_model/{{point}}/dedicated/{{process}}/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_model/{{point}}/dedicated/{{process}}/seed-{{seed}}.tsv"
    params:
        code=code_version("learning.training"),
        task=DEDICATED_TASK,
        settings=lambda wildcards: POINT_SETTINGS[wildcards.point],
        seed=lambda wildcards: int(wildcards.seed),
        backend=config["training"]["backend"],
        name=lambda wildcards: (
            f"{wildcards.point}/dedicated/{wildcards.process}/seed-{wildcards.seed}"
        ),


use rule predict as predict_all_points with:
    input:
        **{split: selected_split(split) for split in SPLITS},
        model=f"{COMPARISON.all_points_model}/model.onnx",
    output:
        **prediction_files(COMPARISON.all_points_model),
        **at_mass_points(COMPARISON.all_points_model),
    log:
        f"{RESULTS}/logs/predict/{{point}}/all_points/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/predict/{{point}}/all_points/seed-{{seed}}.tsv"


use rule predict as predict_dedicated with:
    input:
        **{split: selected_split(split) for split in SPLITS},
        model=f"{COMPARISON.dedicated_model}/model.onnx",
    output:
        **prediction_files(COMPARISON.dedicated_model),
    log:
        f"{RESULTS}/logs/predict/{{point}}/dedicated/{{process}}/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/predict/{{point}}/dedicated/{{process}}/seed-{{seed}}.tsv"
    params:
        # (a rule used "with" keeps the params it does not name: each is named here)
        signal_masses={},
        headline=[],
        code=code_version("learning.prediction"),
        task=DEDICATED_TASK,


rule permutation_importance:
    """Drop in validation AUC when each input variable is shuffled, ranked."""
    input:
        model=f"{PATHS.model}/network.onnx",
        validation=prepared_split("validation"),
    output:
        table=f"{PATHS.model}/importance.csv",
    log:
        f"{RESULTS}/logs/permutation_importance/{{point}}/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/permutation_importance/{{point}}/seed-{{seed}}.tsv"
    conda:
        "../../envs/inference.yaml"
    threads: config["resources"]["prediction"]["threads"]
    resources:
        **job_resources(config["resources"]["prediction"], "permutation_importance"),
    params:
        code=code_version("learning.importance"),
        task=TASK,
        repeats=config["importance"]["repeats"],
        seed=config["importance"]["seed"],
    script:
        "../scripts/permutation_importance.py"


rule average_seed_predictions:
    """A grid point's seed ensemble: the mean of its seeds' outputs, event by event."""
    input:
        **member_at_mass_points(),
        train=member_predictions("train"),
        validation=member_predictions("validation"),
        test=member_predictions("test"),
    output:
        **{split: f"{PATHS.ensemble}/predictions_{split}.parquet" for split in SPLITS},
        **{f"{split}_csv": f"{PATHS.ensemble}/predictions_{split}.csv" for split in SPLITS},
        **at_mass_points(PATHS.ensemble),
    log:
        f"{RESULTS}/logs/average_seed_predictions/{{point}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/average_seed_predictions/{{point}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "average_seed_predictions"),
    params:
        code=code_version("learning.ensemble"),
    script:
        "../scripts/average_seed_predictions.py"


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
