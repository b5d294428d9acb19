rule train_model:
    """One network per grid point and seed; the best validation-loss epoch is kept."""
    input:
        train=prepared_split("train"),
        validation=prepared_split("validation"),
    output:
        model=f"{MODEL}/model.keras",
        history=f"{MODEL}/history.csv",
        facts=f"{MODEL}/training.json",
    log:
        f"{RESULTS}/logs/train_model/{{point}}/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_model/{{point}}/seed-{{seed}}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: threads_of("training")
    resources:
        **job_resources("training", "train_model"),
    params:
        code=code_version("learning.training"),
        features=config["data"]["features"],
        settings=lambda wildcards: POINT_SETTINGS[wildcards.point],
        classification=config["classification"],
        class_names=CLASS_NAMES,
        seed=lambda wildcards: int(wildcards.seed),
        backend=config["training"]["backend"],
    script:
        "../scripts/train_model.py"


rule predict:
    """Network outputs for every event of every split, with weight, process and class."""
    input:
        model=f"{MODEL}/model.keras",
        train=prepared_split("train"),
        validation=prepared_split("validation"),
        test=prepared_split("test"),
    output:
        **{split: f"{MODEL}/predictions_{split}.csv" for split in SPLITS},
    log:
        f"{RESULTS}/logs/predict/{{point}}/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/predict/{{point}}/seed-{{seed}}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: threads_of("prediction")
    resources:
        **job_resources("prediction", "predict"),
    params:
        code=code_version("learning.prediction"),
        features=config["data"]["features"],
        classification=config["classification"],
        class_names=CLASS_NAMES,
        backend=config["training"]["backend"],
    script:
        "../scripts/predict.py"


rule permutation_importance:
    """Drop in validation AUC when each input variable is shuffled, ranked."""
    input:
        model=f"{MODEL}/model.keras",
        validation=prepared_split("validation"),
    output:
        table=f"{MODEL}/importance.csv",
    log:
        f"{RESULTS}/logs/permutation_importance/{{point}}/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/permutation_importance/{{point}}/seed-{{seed}}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: threads_of("prediction")
    resources:
        **job_resources("prediction", "permutation_importance"),
    params:
        code=code_version("learning.importance"),
        features=config["data"]["features"],
        classification=config["classification"],
        class_names=CLASS_NAMES,
        repeats=config["importance"]["repeats"],
        seed=config["importance"]["seed"],
        backend=config["training"]["backend"],
    script:
        "../scripts/permutation_importance.py"
