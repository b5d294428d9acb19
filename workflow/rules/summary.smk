rule summarise_models:
    """The summary tables: per model and per grid point, for the headline signal and for
    every signal process alone."""
    input:
        facts=MODELS.outputs("training.json"),
        evaluation=MODELS.outputs("evaluation.json"),
        by_signal=MODELS.outputs("fom_by_signal.csv"),
        binned=MODELS.outputs("binned/numbers.json"),
        binned_by_signal=MODELS.outputs("binned/by_signal.csv"),
        ensemble_evaluation=MODELS.ensemble_outputs("evaluation.json"),
        ensemble_by_signal=MODELS.ensemble_outputs("fom_by_signal.csv"),
        ensemble_binned=MODELS.ensemble_outputs("binned/numbers.json"),
        ensemble_binned_by_signal=MODELS.ensemble_outputs("binned/by_signal.csv"),
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
