rule train_model:
    """One network per grid point and seed; the best validation-loss epoch is kept."""
    input:
        train=prepared_split("train"),
        validation=prepared_split("validation"),
    output:
        model=f"{PATHS.model}/model.keras",
        history=f"{PATHS.model}/history.csv",
        facts=f"{PATHS.model}/training.json",
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
    """Network outputs for every event of every split, with weight, process and class."""
    input:
        model=f"{PATHS.model}/model.keras",
        train=prepared_split("train"),
        validation=prepared_split("validation"),
        test=prepared_split("test"),
    output:
        **{split: f"{PATHS.model}/predictions_{split}.csv" for split in SPLITS},
    log:
        f"{RESULTS}/logs/predict/{{point}}/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/predict/{{point}}/seed-{{seed}}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: config["resources"]["prediction"]["threads"]
    resources:
        **job_resources(config["resources"]["prediction"], "predict"),
    params:
        code=code_version("learning.prediction"),
        task=TASK,
        backend=config["training"]["backend"],
    script:
        "../scripts/predict.py"


rule permutation_importance:
    """Drop in validation AUC when each input variable is shuffled, ranked."""
    input:
        model=f"{PATHS.model}/model.keras",
        validation=prepared_split("validation"),
    output:
        table=f"{PATHS.model}/importance.csv",
    log:
        f"{RESULTS}/logs/permutation_importance/{{point}}/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/permutation_importance/{{point}}/seed-{{seed}}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: config["resources"]["prediction"]["threads"]
    resources:
        **job_resources(config["resources"]["prediction"], "permutation_importance"),
    params:
        code=code_version("learning.importance"),
        task=TASK,
        repeats=config["importance"]["repeats"],
        seed=config["importance"]["seed"],
        backend=config["training"]["backend"],
    script:
        "../scripts/permutation_importance.py"
