rule train_model:
    """One network per grid point and seed; the best validation-loss epoch is kept."""
    input:
        train=prepared_split("train"),
        validation=prepared_split("validation"),
        code=package_code("training"),
    output:
        model=f"{RESULTS}/models/{{point}}/seed-{{seed}}/model.keras",
        history=f"{RESULTS}/models/{{point}}/seed-{{seed}}/history.csv",
        facts=f"{RESULTS}/models/{{point}}/seed-{{seed}}/training.json",
    params:
        features=config["data"]["features"],
        settings=lambda wildcards: point_settings(config, GRID[wildcards.point]),
        mode=config["classification"],
        class_names=CLASS_NAMES,
        seed=lambda wildcards: int(wildcards.seed),
    log:
        f"{RESULTS}/logs/train_model/{{point}}/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_model/{{point}}/seed-{{seed}}.tsv"
    threads: training_resources("training")["threads"]
    resources:
        mem_mb=training_resources("training")["mem_mb"],
        runtime=training_resources("training")["runtime"],
        gpu=training_resources("training")["gpu"],
    conda:
        "../../envs/training.yaml"
    script:
        "../scripts/train_model.py"


rule predict:
    """Network outputs for every event of every split, with weight, process and class."""
    input:
        model=f"{RESULTS}/models/{{point}}/seed-{{seed}}/model.keras",
        train=prepared_split("train"),
        validation=prepared_split("validation"),
        test=prepared_split("test"),
        code=package_code("prediction"),
    output:
        train=f"{RESULTS}/models/{{point}}/seed-{{seed}}/predictions_train.csv",
        validation=f"{RESULTS}/models/{{point}}/seed-{{seed}}/predictions_validation.csv",
        test=f"{RESULTS}/models/{{point}}/seed-{{seed}}/predictions_test.csv",
    params:
        features=config["data"]["features"],
        mode=config["classification"],
        class_names=CLASS_NAMES,
    log:
        f"{RESULTS}/logs/predict/{{point}}/seed-{{seed}}.log",
    threads: training_resources("prediction")["threads"]
    resources:
        mem_mb=training_resources("prediction")["mem_mb"],
        runtime=training_resources("prediction")["runtime"],
        gpu=training_resources("prediction")["gpu"],
    conda:
        "../../envs/training.yaml"
    script:
        "../scripts/predict.py"


rule permutation_importance:
    """Drop in validation AUC when each input variable is shuffled, ranked."""
    input:
        model=f"{RESULTS}/models/{{point}}/seed-{{seed}}/model.keras",
        validation=prepared_split("validation"),
        code=package_code("importance"),
    output:
        table=f"{RESULTS}/models/{{point}}/seed-{{seed}}/importance.csv",
    params:
        features=config["data"]["features"],
        mode=config["classification"],
        class_names=CLASS_NAMES,
        repeats=config["importance"]["repeats"],
        seed=config["importance"]["seed"],
    log:
        f"{RESULTS}/logs/permutation_importance/{{point}}/seed-{{seed}}.log",
    threads: training_resources("prediction")["threads"]
    resources:
        mem_mb=training_resources("prediction")["mem_mb"],
        runtime=training_resources("prediction")["runtime"],
        gpu=training_resources("prediction")["gpu"],
    conda:
        "../../envs/training.yaml"
    script:
        "../scripts/permutation_importance.py"
