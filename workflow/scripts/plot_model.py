from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.figures.classifier import plot_model_files

plot_model_files(
    snakemake.input,
    snakemake.output,
    classification=snakemake.params.classification,
    class_names=snakemake.params.class_names,
    bins=snakemake.params.bins,
    label=snakemake.params.label,
    roc_style=snakemake.params.roc_style,
    min_background_events=snakemake.params.min_background_events,
)
