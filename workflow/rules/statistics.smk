rule evaluate_model:
    """Weighted AUCs, the FOM scan over the cut on the signal output (with the MC
    statistics and the bootstrap error), the chosen cut of every signal process, and the
    overtraining (KS) test; for a seed or a seed ensemble."""
    input:
        **at_mass_points(PATHS.member),
        train=f"{PATHS.member}/predictions_train.parquet",
        validation=f"{PATHS.member}/predictions_validation.parquet",
        test=f"{PATHS.member}/predictions_test.parquet",
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
            labels={"result": "9. KS test table"},
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


rule fit_binned_likelihood:
    """The binned likelihood of the network output (pyhf): the signal score histogrammed
    per process, bins chosen on validation, and the expected discovery significance and
    upper limits on test, for the headline signal and every signal point; its workspaces
    for pyhf and a Combine datacard. Its own rule: the statistics options rerun only it
    and what reads it."""
    input:
        **at_mass_points(PATHS.member, ("validation", "test")),
        validation=f"{PATHS.member}/predictions_validation.parquet",
        test=f"{PATHS.member}/predictions_test.parquet",
        shares=PATHS.split_shares,
    output:
        histograms=f"{PATHS.member}/binned/histograms.csv",
        binning=f"{PATHS.member}/binned/binning.json",
        numbers=f"{PATHS.member}/binned/numbers.json",
        by_signal=f"{PATHS.member}/binned/by_signal.csv",
        workspace=f"{PATHS.member}/binned/workspace.json",
        workspace_class_norms=f"{PATHS.member}/binned/workspace_class_norms.json",
        datacard=f"{PATHS.member}/binned/datacard.txt",
        shapes=f"{PATHS.member}/binned/shapes.root",
        datacard_class_norms=f"{PATHS.member}/binned/datacard_class_norms.txt",
        shapes_class_norms=f"{PATHS.member}/binned/shapes_class_norms.root",
    log:
        f"{RESULTS}/logs/fit_binned_likelihood/{{point}}/{{member}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/fit_binned_likelihood/{{point}}/{{member}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "fit_binned_likelihood"),
    params:
        code=code_version("statistics.binned"),
        task=TASK,
        options=canonical(config["statistics"]),
        fom=canonical(
            {
                key: config["fom"][key]
                for key in (
                    "luminosity",
                    "relative_background_uncertainty",
                    "signal_processes",
                    "bootstrap_seed",
                )
            }
        ),
    script:
        "../scripts/fit_binned_likelihood.py"


rule compare_mass_points:
    """A parametrised run's networks against dedicated networks, point by point: the
    binned test Z of each (seed ensembles), their bootstrap errors and the goals; and
    the training time of each network."""
    input:
        **COMPARISON.inputs(),
        shares=PATHS.split_shares,
    output:
        table=report(
            COMPARISON.table,
            caption="../../report/mass_point_comparison_table.rst",
            category="3. Across models",
            subcategory="Tables",
            labels={
                "result": "5. per mass point, against dedicated networks (mass_point_comparison.csv)"
            },
        ),
        training_time=COMPARISON.training_time,
    log:
        f"{RESULTS}/logs/compare_mass_points.log",
    benchmark:
        f"{RESULTS}/benchmarks/compare_mass_points.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "compare_mass_points"),
    params:
        code=code_version("statistics.mass_point_comparison"),
        task=TASK,
        options=canonical(config["statistics"]),
        fom=canonical(
            {
                key: config["fom"][key]
                for key in ("luminosity", "relative_background_uncertainty", "bootstrap_seed")
            }
        ),
        held_out=COMPARISON.held_out,
        dedicated=COMPARISON.dedicated_points,
        signal_masses=config["training"]["signal_masses"],
    script:
        "../scripts/compare_mass_points.py"
