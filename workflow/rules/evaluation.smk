rule evaluate_model:
    """Weighted AUCs and the FOM scan over the cut on the signal output."""
    input:
        train=f"{RESULTS}/models/{{point}}/seed-{{seed}}/predictions_train.csv",
        validation=f"{RESULTS}/models/{{point}}/seed-{{seed}}/predictions_validation.csv",
        test=f"{RESULTS}/models/{{point}}/seed-{{seed}}/predictions_test.csv",
        code=package_code("evaluation"),
    output:
        scan=f"{RESULTS}/models/{{point}}/seed-{{seed}}/fom_scan.csv",
        evaluation=f"{RESULTS}/models/{{point}}/seed-{{seed}}/evaluation.json",
    params:
        fractions=canonical(config["split"]["fractions"]),
        fom=canonical(config["fom"]),
        mode=config["classification"],
        class_names=CLASS_NAMES,
    log:
        f"{RESULTS}/logs/evaluate_model/{{point}}/seed-{{seed}}.log",
    threads: threads_of("light")
    resources:
        **job_resources("light"),
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/evaluate_model.py"


rule summarise_models:
    """fom_summary.csv (one row per model) and its mean/std over seeds per grid point."""
    input:
        facts=model_outputs("training.json"),
        evaluation=model_outputs("evaluation.json"),
        code=package_code("summary"),
    output:
        summary=report(
            f"{RESULTS}/fom_summary.csv",
            caption="../../report/summary.rst",
            category="3. Across models",
            subcategory="Tables",
        ),
        by_point=report(
            f"{RESULTS}/fom_summary_by_point.csv",
            caption="../../report/summary_by_point.rst",
            category="3. Across models",
            subcategory="Tables",
        ),
    params:
        models=model_ids(),
        points=model_points(),
    log:
        f"{RESULTS}/logs/summarise_models.log",
    threads: threads_of("light")
    resources:
        **job_resources("light"),
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/summarise_models.py"
