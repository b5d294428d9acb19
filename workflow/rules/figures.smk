rule plot_inputs:
    """Input variables per class and their correlations: what the network is given."""
    input:
        events=selected_split("train"),
    output:
        **figure(
            "inputs",
            f"{PATHS.plots}/input_distributions",
            "inputs.rst",
            "1. Inputs",
            "Distributions",
        ),
        **figure(
            "correlations",
            f"{PATHS.plots}/correlations",
            "correlations.rst",
            "1. Inputs",
            "Correlations",
        ),
    log:
        f"{RESULTS}/logs/plot_inputs.log",
    benchmark:
        f"{RESULTS}/benchmarks/plot_inputs.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "plot_inputs"),
    params:
        code=code_version("figures.inputs"),
        task=TASK,
        units=canonical(config["plots"]["units"]),
        bins=config["plots"]["bins"],
        label=experiment_label(config),
    script:
        "../scripts/plot_inputs.py"


rule plot_model:
    """Training curves, ROC curves, output distributions with the evaluation's KS
    overtraining test, confusion matrix, FOM scan and variable importance of one model."""
    input:
        history=f"{PATHS.model}/history.csv",
        facts=f"{PATHS.model}/training.json",
        predictions_train=f"{PATHS.model}/predictions_train.parquet",
        predictions_validation=f"{PATHS.model}/predictions_validation.parquet",
        predictions_test=f"{PATHS.model}/predictions_test.parquet",
        scan=f"{PATHS.model}/fom_scan.csv",
        evaluation=f"{PATHS.model}/evaluation.json",
        ks_table=f"{PATHS.model}/overtraining_ks.csv",
        importance=f"{PATHS.model}/importance.csv",
    output:
        **figure(
            "history",
            f"{PATHS.model}/plots/training_history",
            "history.rst",
            MODEL_CATEGORY,
            MODEL_SUBCATEGORY,
        ),
        **figure("roc", f"{PATHS.model}/plots/roc", "roc.rst", MODEL_CATEGORY, MODEL_SUBCATEGORY),
        **figure(
            "outputs",
            f"{PATHS.model}/plots/output_distributions",
            "outputs.rst",
            MODEL_CATEGORY,
            MODEL_SUBCATEGORY,
        ),
        **figure(
            "confusion",
            f"{PATHS.model}/plots/confusion_matrix",
            "confusion.rst",
            MODEL_CATEGORY,
            MODEL_SUBCATEGORY,
        ),
        **figure(
            "fom", f"{PATHS.model}/plots/fom_scan", "fom.rst", MODEL_CATEGORY, MODEL_SUBCATEGORY
        ),
        **figure(
            "importance",
            f"{PATHS.model}/plots/importance",
            "importance.rst",
            MODEL_CATEGORY,
            MODEL_SUBCATEGORY,
        ),
    log:
        f"{RESULTS}/logs/plot_model/{{point}}/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/plot_model/{{point}}/seed-{{seed}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "plot_model"),
    params:
        code=code_version("figures.classifier"),
        task=TASK,
        bins=config["plots"]["bins"],
        label=experiment_label(config),
        roc_style=config["plots"]["roc"],
        # the FOM scan shades the cuts that may not be chosen
        min_background_events=config["fom"]["min_background_events"],
    script:
        "../scripts/plot_model.py"


rule plot_seed_spread:
    """Validation AUC and test FOM of every seed, per grid point, side by side."""
    input:
        summary=PATHS.summary,
    output:
        **figure(
            "spread",
            f"{PATHS.plots}/seed_spread",
            "seed_spread.rst",
            "3. Across models",
            "Seeds",
        ),
        # inline on the report's first page (report/workflow.rst)
        spread_svg=f"{PATHS.plots}/seed_spread.svg",
    log:
        f"{RESULTS}/logs/plot_seed_spread.log",
    benchmark:
        f"{RESULTS}/benchmarks/plot_seed_spread.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "plot_seed_spread"),
    params:
        code=code_version("figures.across_models"),
        label=experiment_label(config),
    script:
        "../scripts/plot_seed_spread.py"


rule plot_ensemble_fom_scan:
    """The FOM scan of a grid point's seed ensemble, with its bootstrap band, and the
    overlay of its seeds' test FOM scans with their chosen cuts."""
    input:
        scan=f"{PATHS.ensemble}/fom_scan.csv",
        evaluation=f"{PATHS.ensemble}/evaluation.json",
        seed_scans=member_outputs("fom_scan.csv"),
        seed_evaluations=member_outputs("evaluation.json"),
    output:
        **figure(
            "fom",
            f"{PATHS.ensemble}/plots/fom_scan",
            "fom.rst",
            MODEL_CATEGORY,
            member_subcategory,
        ),
        **figure(
            "seeds",
            f"{PATHS.ensemble}/plots/fom_scan_seeds",
            "fom_scan_seeds.rst",
            "3. Across models",
            "Seeds",
        ),
    log:
        f"{RESULTS}/logs/plot_ensemble_fom_scan/{{point}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/plot_ensemble_fom_scan/{{point}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "plot_ensemble_fom_scan"),
    params:
        code=code_version("figures.fom"),
        class_names=CLASS_NAMES,
        label=experiment_label(config),
        seeds=SEEDS,
        # the FOM scans shade (dot) the cuts that may not be chosen
        min_background_events=config["fom"]["min_background_events"],
    script:
        "../scripts/plot_ensemble_fom_scan.py"


rule plot_fom_by_signal:
    """Test FOM at the validation-chosen cut versus the signal mass point, per grid point
    (mean ± std over seeds, and the seed ensemble)."""
    input:
        by_signal=PATHS.by_signal_by_point,
    output:
        **figure(
            "by_signal",
            f"{PATHS.plots}/fom_by_signal",
            "fom_by_signal.rst",
            "3. Across models",
            "Signal points",
        ),
    log:
        f"{RESULTS}/logs/plot_fom_by_signal.log",
    benchmark:
        f"{RESULTS}/benchmarks/plot_fom_by_signal.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "plot_fom_by_signal"),
    params:
        code=code_version("figures.across_models"),
        label=experiment_label(config),
    script:
        "../scripts/plot_fom_by_signal.py"


rule plot_two_dimensional_samples:
    """The 2-D chapter's view of the two samples (only for two input variables)."""
    input:
        events=[selected_split(split) for split in SPLITS],
    output:
        **figure(
            "samples",
            f"{PATHS.plots}/two_dimensional_samples",
            "toy2d_samples.rst",
            "1. Inputs",
            "2-D view",
        ),
    log:
        f"{RESULTS}/logs/plot_two_dimensional_samples.log",
    benchmark:
        f"{RESULTS}/benchmarks/plot_two_dimensional_samples.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "plot_two_dimensional_samples"),
    params:
        code=code_version("figures.inputs"),
        features=config["data"]["features"],
        signal_class=CLASS_NAMES[0],
        label=experiment_label(config),
    script:
        "../scripts/plot_two_dimensional_samples.py"


rule plot_two_dimensional_classification:
    """Test events drawn as correctly classified or misclassified (two input variables)."""
    input:
        events=selected_split("test"),
        predictions=f"{PATHS.model}/predictions_test.parquet",
    output:
        **figure(
            "classification",
            f"{PATHS.model}/plots/two_dimensional_classification",
            "toy2d_classification.rst",
            MODEL_CATEGORY,
            MODEL_SUBCATEGORY,
        ),
    log:
        f"{RESULTS}/logs/plot_two_dimensional_classification/{{point}}/seed-{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/plot_two_dimensional_classification/{{point}}/seed-{{seed}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "plot_two_dimensional_classification"),
    params:
        code=code_version("figures.classifier"),
        features=config["data"]["features"],
        signal_class=CLASS_NAMES[0],
        label=experiment_label(config),
    script:
        "../scripts/plot_two_dimensional_classification.py"


rule plot_binned_output:
    """The binned network output of a model on test, as the binned likelihood sees it:
    backgrounds stacked per class, the signal overlaid, the MC-statistics band, the
    chosen bins."""
    input:
        histograms=f"{PATHS.member}/binned/histograms.csv",
        binning=f"{PATHS.member}/binned/binning.json",
    output:
        **figure(
            "binned_output",
            f"{PATHS.member}/plots/binned_output",
            "binned_output.rst",
            MODEL_CATEGORY,
            member_subcategory,
        ),
    log:
        f"{RESULTS}/logs/plot_binned_output/{{point}}/{{member}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/plot_binned_output/{{point}}/{{member}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "plot_binned_output"),
    params:
        code=code_version("figures.binned"),
        class_names=CLASS_NAMES,
        signal_processes=config["fom"]["signal_processes"],
        label=experiment_label(config),
    script:
        "../scripts/plot_binned_output.py"


rule plot_limits:
    """The expected upper limits on the signal strength against the signal mass point
    (the "Brazil" plot), and the binned Z beside the cut-based one, per grid point."""
    input:
        by_signal_by_point=PATHS.by_signal_by_point,
    output:
        **figure("limits", f"{PATHS.plots}/limits", "limits.rst", "3. Across models", "Limits"),
        **figure(
            "binned_z",
            f"{PATHS.plots}/binned_z",
            "binned_z.rst",
            "3. Across models",
            "Limits",
        ),
        # inline on the report's first page (report/workflow.rst)
        limits_svg=f"{PATHS.plots}/limits.svg",
    log:
        f"{RESULTS}/logs/plot_limits.log",
    benchmark:
        f"{RESULTS}/benchmarks/plot_limits.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "plot_limits"),
    params:
        code=code_version("figures.binned"),
        label=experiment_label(config),
    script:
        "../scripts/plot_limits.py"


rule plot_mass_point_comparison:
    """The binned test Z of the parametrised and the dedicated networks at every mass
    point, and the parametrised network's share of the dedicated network's."""
    input:
        table=COMPARISON.table,
    output:
        **figure(
            "mass_point_comparison",
            f"{PATHS.plots}/mass_point_comparison",
            "mass_point_comparison.rst",
            "3. Across models",
            "Limits",
        ),
    log:
        f"{RESULTS}/logs/plot_mass_point_comparison.log",
    benchmark:
        f"{RESULTS}/benchmarks/plot_mass_point_comparison.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "plot_mass_point_comparison"),
    params:
        code=code_version("figures.mass_points"),
        label=experiment_label(config),
    script:
        "../scripts/plot_mass_point_comparison.py"
