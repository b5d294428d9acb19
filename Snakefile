# Neural-network signal/background classification with a figure-of-merit scan,
# as CMS analysts do it: CSV -> Parquet -> splits -> scaled, balanced inputs ->
# one model per (grid point, seed) -> predictions -> FOM scan -> summary tables,
# and every model exported as ONNX with its model card.
from snakemake.utils import min_version

from cmsnn.config.size import check_config_file

min_version("9.0")

# Snakemake merges a config file's mappings into the config at `configfile:`, copying
# every alias: one of nested aliases is refused here, before that merge.
check_config_file("config.yaml")


configfile: "config.yaml"


report: "report/workflow.rst"


# A GPU is counted per machine: locally, `--resources gpu=1` trains one model at a time;
# on a cluster every job gets its own node's GPUs, so all jobs are submitted at once.
resource_scopes:
    gpu="local",


# One rule file per stage subpackage of src/cmsnn (a rule runs an entry point of its own
# file's subpackage), in the order the data flows.
include: "workflow/rules/common.smk"
include: "workflow/rules/ingestion.smk"
include: "workflow/rules/preprocessing.smk"
include: "workflow/rules/learning.smk"
include: "workflow/rules/statistics.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/figures.smk"


localrules:
    all,
    generate_toy_sample,
    summarise_models,
    plot_seed_spread,
    plot_fom_by_signal,
    plot_limits,
    tabulate_processes,
    tabulate_cutflow,
    write_model_card,


onstart:
    record_main_process()
    keep_resolved_config(config, RESULTS)


onsuccess:
    print_verdict(PATHS.summary, RESULTS, REPORT_COMMAND)


onerror:
    print_failures(log)


rule all:
    default_target: True
    input:
        get_final_outputs,


# The package's parsed modules, for the next start (written only when one changed).
PACKAGE_CODE.save()
