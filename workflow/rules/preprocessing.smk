if SOURCE == "presplit":

    localrules:
        collect_presplit,

    rule collect_presplit:
        """The tutorial's layout: train/val/test files exist already; join sig and bkg,
        and measure each process's share of each split (the yields' split fraction)."""
        input:
            train=PATHS.presplit_ingested("train"),
            validation=PATHS.presplit_ingested("validation"),
            test=PATHS.presplit_ingested("test"),
        output:
            **{split: PATHS.split.format(split=split) for split in SPLITS},
            shares=PATHS.split_shares,
        log:
            f"{RESULTS}/logs/collect_presplit.log",
        benchmark:
            f"{RESULTS}/benchmarks/collect_presplit.tsv"
        conda:
            "../../envs/data.yaml"
        threads: config["resources"]["light"]["threads"]
        resources:
            **job_resources(config["resources"]["light"], "collect_presplit"),
        params:
            code=code_version("preprocessing.splitting"),
            source=SOURCE,
            directory=config["data"]["presplit_directory"],
            signal_class=CLASS_NAMES[0],
            signal_processes=config["fom"]["signal_processes"],
        script:
            "../scripts/collect_presplit.py"

else:

    rule split_events:
        """Train / validation / test samples, stratified per process, and each process's
        measured share of each split (the yields' split fraction)."""
        input:
            parquet=ingested_files(),
        output:
            **{split: PATHS.split.format(split=split) for split in SPLITS},
            shares=PATHS.split_shares,
        log:
            f"{RESULTS}/logs/split_events.log",
        benchmark:
            f"{RESULTS}/benchmarks/split_events.tsv"
        conda:
            "../../envs/data.yaml"
        threads: config["resources"]["light"]["threads"]
        resources:
            **job_resources(config["resources"]["light"], "split_events"),
        params:
            code=code_version("preprocessing.splitting"),
            source=SOURCE,
            fractions=canonical(config["split"]["fractions"]),
            seed=config["split"]["seed"],
            signal_class=CLASS_NAMES[0],
            signal_processes=config["fom"]["signal_processes"],
        script:
            "../scripts/split_events.py"


rule preselect:
    """The optional cut in front of the network, applied to every split."""
    input:
        parquet=PATHS.split,
    output:
        parquet=PATHS.preselected,
    log:
        f"{RESULTS}/logs/preselect/{{split}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/preselect/{{split}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "preselect"),
    params:
        code=code_version("preprocessing.selection"),
        cut=config["preselection"],
    script:
        "../scripts/preselect.py"


rule scale_and_balance:
    """Scaling fitted on the training split, applied to all; balanced training weights."""
    input:
        train=selected_split("train"),
        validation=selected_split("validation"),
        test=selected_split("test"),
    output:
        **{split: f"{PATHS.prepared}/{split}.parquet" for split in SPLITS},
        scaler=f"{PATHS.prepared}/scaler.json",
    log:
        f"{RESULTS}/logs/scale_and_balance/{{scaling}}-{{balancing}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/scale_and_balance/{{scaling}}-{{balancing}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "scale_and_balance"),
    params:
        **(
            {
                "signal_masses": config["training"]["signal_masses"],
                "held_out_mass_points": config["training"]["held_out_mass_points"],
            }
            if PARAMETRISED
            else {}
        ),
        code=code_version("preprocessing.scaling"),
        task=TASK,
        negative_weights=config["preprocessing"]["negative_weights"],
    script:
        "../scripts/scale_and_balance.py"


use rule scale_and_balance as scale_and_balance_all_points with:
    output:
        **{split: f"{COMPARISON.all_points_prepared}/{split}.parquet" for split in SPLITS},
        scaler=f"{COMPARISON.all_points_prepared}/scaler.json",
    log:
        f"{RESULTS}/logs/scale_and_balance/{{point}}/all_points/{{scaling}}-{{balancing}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/scale_and_balance/{{point}}/all_points/{{scaling}}-{{balancing}}.tsv"
    params:
        # (a rule used "with" keeps the params it does not name: each is named here)
        signal_masses=config["training"]["signal_masses"],
        held_out_mass_points=[],
        code=code_version("preprocessing.scaling"),
        task=TASK,
        negative_weights=config["preprocessing"]["negative_weights"],


use rule scale_and_balance as scale_and_balance_dedicated with:
    output:
        **{split: f"{COMPARISON.dedicated_prepared}/{split}.parquet" for split in SPLITS},
        scaler=f"{COMPARISON.dedicated_prepared}/scaler.json",
    log:
        f"{RESULTS}/logs/scale_and_balance/{{point}}/dedicated/{{process}}/{{scaling}}-{{balancing}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/scale_and_balance/{{point}}/dedicated/{{process}}/{{scaling}}-{{balancing}}.tsv"
    params:
        signal_masses={},
        held_out_mass_points=[],
        trained_points=lambda wildcards: [wildcards.process],
        code=code_version("preprocessing.scaling"),
        task=DEDICATED_TASK,
        negative_weights=config["preprocessing"]["negative_weights"],


rule tabulate_cutflow:
    """Events and sum of weights of every process at each stage: read, split,
    preselection, training set (after the negative-weight policy)."""
    input:
        **{
            f"preselected_{split}": PATHS.preselected.format(split=split)
            for split in PRESELECTED_SPLITS
        },
        **{split: PATHS.split.format(split=split) for split in SPLITS},
        shares=PATHS.split_shares,
        ingested=ingested_files(),
        training_set=f"{PREPARED_DIRS[next(iter(GRID))]}/train.parquet",
    output:
        cutflow=PATHS.cutflow,
    log:
        f"{RESULTS}/logs/tabulate_cutflow.log",
    benchmark:
        f"{RESULTS}/benchmarks/tabulate_cutflow.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "tabulate_cutflow"),
    params:
        code=code_version("preprocessing.cutflow"),
        preselected=PRESELECTED_SPLITS,
    script:
        "../scripts/tabulate_cutflow.py"
