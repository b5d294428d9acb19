from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.figures.classifier import plot_model_files
from cmsnn.vocabulary import SPLITS

plot_model_files(
    predictions={split: snakemake.input[f"predictions_{split}"] for split in SPLITS},
    facts=snakemake.input.facts,
    history=snakemake.input.history,
    ks_table=snakemake.input.ks_table,
    scan=snakemake.input.scan,
    evaluation=snakemake.input.evaluation,
    importance=snakemake.input.importance,
    figures=dict(snakemake.output.items()),
    task=snakemake.params.task,
    bins=snakemake.params.bins,
    label=snakemake.params.label,
    roc_style=snakemake.params.roc_style,
    min_background_events=snakemake.params.min_background_events,
)
