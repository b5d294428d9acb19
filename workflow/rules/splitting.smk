if SOURCE == "presplit":

    localrules:
        collect_presplit,

    rule collect_presplit:
        """The tutorial's layout: train/val/test files exist already; join sig and bkg,
        and measure each process's share of each split (the yields' split fraction)."""
        input:
            train=presplit_ingested("train"),
            validation=presplit_ingested("validation"),
            test=presplit_ingested("test"),
        output:
            **{split: SPLIT.format(split=split) for split in SPLITS},
            shares=SPLIT_SHARES,
        log:
            f"{RESULTS}/logs/collect_presplit.log",
        benchmark:
            f"{RESULTS}/benchmarks/collect_presplit.tsv"
        conda:
            "../../envs/data.yaml"
        threads: threads_of("light")
        resources:
            **job_resources("light", "collect_presplit"),
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
            **{split: SPLIT.format(split=split) for split in SPLITS},
            shares=SPLIT_SHARES,
        log:
            f"{RESULTS}/logs/split_events.log",
        benchmark:
            f"{RESULTS}/benchmarks/split_events.tsv"
        conda:
            "../../envs/data.yaml"
        threads: threads_of("light")
        resources:
            **job_resources("light", "split_events"),
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
        parquet=SPLIT,
    output:
        parquet=PRESELECTED,
    log:
        f"{RESULTS}/logs/preselect/{{split}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/preselect/{{split}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: threads_of("light")
    resources:
        **job_resources("light", "preselect"),
    params:
        code=code_version("preprocessing.selection"),
        cut=config["preselection"],
    script:
        "../scripts/preselect.py"
