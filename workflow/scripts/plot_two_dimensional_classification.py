from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.figures.classifier import plot_two_dimensional_classification_files

plot_two_dimensional_classification_files(
    events=snakemake.input.events,
    predictions=snakemake.input.predictions,
    figures=dict(snakemake.output.items()),
    features=snakemake.params.features,
    signal_class=snakemake.params.signal_class,
    label=snakemake.params.label,
)
