rule average_seed_predictions:
    """A grid point's seed ensemble: the mean of its seeds' outputs, event by event."""
    input:
        train=member_predictions("train"),
        validation=member_predictions("validation"),
        test=member_predictions("test"),
    output:
        train=f"{PATHS.ensemble}/predictions_train.csv",
        validation=f"{PATHS.ensemble}/predictions_validation.csv",
        test=f"{PATHS.ensemble}/predictions_test.csv",
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


rule evaluate_model:
    """Weighted AUCs, the FOM scan over the cut on the signal output (with the MC
    statistics and the bootstrap error), the chosen cut of every signal process, and the
    overtraining (KS) test; for a seed or a seed ensemble."""
    input:
        train=f"{PATHS.member}/predictions_train.csv",
        validation=f"{PATHS.member}/predictions_validation.csv",
        test=f"{PATHS.member}/predictions_test.csv",
        shares=PATHS.split_shares,
    output:
        scan=f"{PATHS.member}/fom_scan.csv",
        evaluation=f"{PATHS.member}/evaluation.json",
        by_signal=f"{PATHS.member}/fom_by_signal.csv",
        ks_table=report(
            f"{PATHS.member}/overtraining_ks.csv",
            caption="../../report/ks_table.rst",
            category=MODEL_CATEGORY,
            subcategory=member_subcategory,
            # after the model's figures (common.smk: figure): tables last
            labels={"result": "8. KS test table"},
        ),
    log:
        f"{RESULTS}/logs/evaluate_model/{{point}}/{{member}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate_model/{{point}}/{{member}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "evaluate_model"),
    params:
        code=code_version("statistics.evaluation"),
        fom=canonical(config["fom"]),
        task=TASK,
        ks_p_value_threshold=config["overtraining"]["p_value_threshold"],
    script:
        "../scripts/evaluate_model.py"


rule summarise_models:
    """The summary tables: per model and per grid point, for the headline signal and for
    every signal process alone."""
    input:
        facts=MODELS.outputs("training.json"),
        evaluation=MODELS.outputs("evaluation.json"),
        by_signal=MODELS.outputs("fom_by_signal.csv"),
        ensemble_evaluation=MODELS.ensemble_outputs("evaluation.json"),
        ensemble_by_signal=MODELS.ensemble_outputs("fom_by_signal.csv"),
    output:
        summary=report(
            PATHS.summary,
            caption="../../report/summary.rst",
            category="3. Across models",
            subcategory="Tables",
            labels={"result": "1. per model (fom_summary.csv)"},
        ),
        headline=PATHS.summary_headline,
        by_point=report(
            PATHS.summary_by_point,
            caption="../../report/summary_by_point.rst",
            category="3. Across models",
            subcategory="Tables",
            labels={"result": "2. per grid point (fom_summary_by_point.csv)"},
        ),
        by_signal=report(
            PATHS.by_signal,
            caption="../../report/fom_by_signal_table.rst",
            category="3. Across models",
            subcategory="Tables",
            labels={"result": "3. per signal process (fom_by_signal.csv)"},
        ),
        by_signal_by_point=report(
            PATHS.by_signal_by_point,
            caption="../../report/fom_by_signal_by_point.rst",
            category="3. Across models",
            subcategory="Tables",
            labels={"result": "4. per signal process and grid point (fom_by_signal_by_point.csv)"},
        ),
    log:
        f"{RESULTS}/logs/summarise_models.log",
    benchmark:
        f"{RESULTS}/benchmarks/summarise_models.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "summarise_models"),
    params:
        code=code_version("summary.tables"),
        models=MODELS.ids(),
        points=MODELS.points_of_models(),
        ensemble_points=MODELS.ensemble_points,
    script:
        "../scripts/summarise_models.py"
