from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.figures.inputs import plot_dataset_files

plot_dataset_files(
    snakemake.input.events,
    snakemake.output,
    features=snakemake.params.features,
    class_names=snakemake.params.class_names,
    units=snakemake.params.units,
    bins=snakemake.params.bins,
    label=snakemake.params.label,
)
