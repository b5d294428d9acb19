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
