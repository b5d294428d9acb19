rule generate_toy_sample:
    """One process of the embedded default dataset, as a headerless CSV."""
    output:
        csv=PATHS.toy_csv,
    log:
        f"{RESULTS}/logs/generate_toy_sample/{{sample}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/generate_toy_sample/{{sample}}.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "generate_toy_sample"),
    params:
        code=code_version("ingestion.toydata"),
        process=lambda wildcards: TOY_PROCESSES[wildcards.sample][0],
        parameters=lambda wildcards: canonical(TOY_PROCESSES[wildcards.sample][1]),
        events_scale=config["data"]["toy"]["events_scale"],
        seed=config["data"]["toy"]["seed"],
    script:
        "../scripts/generate_toy_sample.py"


if SOURCE == "root":

    rule ingest_root:
        """One process's ROOT ntuples to a typed Parquet table with each event's class,
        read and written chunk by chunk."""
        input:
            files=lambda wildcards: resolve_files(ROOT_PROCESSES[wildcards.sample]),
        output:
            parquet=PATHS.ingested,
        log:
            f"{RESULTS}/logs/ingest_root/{{sample}}.log",
        benchmark:
            f"{RESULTS}/benchmarks/ingest_root/{{sample}}.tsv"
        conda:
            "../../envs/data.yaml"
        threads: config["resources"]["light"]["threads"]
        resources:
            **job_resources(config["resources"]["light"], "ingest_root"),
        params:
            code=code_version("ingestion.root_files"),
            process=lambda wildcards: canonical(ROOT_PROCESSES[wildcards.sample]),
            features=config["data"]["features"],
            classes=canonical(config["classes"]),
            fill_value=config["data"]["root"]["fill_value"],
            step_size=config["data"]["root"]["step_size"],
        script:
            "../scripts/ingest_root.py"

else:

    rule ingest_csv:
        """A ROOT-derived CSV to a typed Parquet table with each event's class."""
        input:
            csv=lambda wildcards: INPUT_CSV[wildcards.sample],
        output:
            parquet=PATHS.ingested,
        log:
            f"{RESULTS}/logs/ingest_csv/{{sample}}.log",
        benchmark:
            f"{RESULTS}/benchmarks/ingest_csv/{{sample}}.tsv"
        conda:
            "../../envs/data.yaml"
        threads: config["resources"]["light"]["threads"]
        resources:
            **job_resources(config["resources"]["light"], "ingest_csv"),
        params:
            code=code_version("ingestion.csv_files"),
            features=config["data"]["features"],
            weight_column=config["data"]["weight_column"],
            process_column=config["data"]["process_column"],
            header=config["data"]["header"],
            classes=canonical(config["classes"]),
        script:
            "../scripts/ingest_csv.py"


rule tabulate_processes:
    """Every process with its class, events and sum of weights: what each class holds."""
    input:
        parquet=ingested_files(),
    output:
        table=PATHS.process_table,
    log:
        f"{RESULTS}/logs/tabulate_processes.log",
    benchmark:
        f"{RESULTS}/benchmarks/tabulate_processes.tsv"
    conda:
        "../../envs/data.yaml"
    threads: config["resources"]["light"]["threads"]
    resources:
        **job_resources(config["resources"]["light"], "tabulate_processes"),
    params:
        code=code_version("ingestion.processes"),
    script:
        "../scripts/tabulate_processes.py"
