from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.figures.inputs import plot_inputs_files

plot_inputs_files(
    events=snakemake.input.events,
    figures=dict(snakemake.output.items()),
    task=snakemake.params.task,
    units=snakemake.params.units,
    bins=snakemake.params.bins,
    label=snakemake.params.label,
)
