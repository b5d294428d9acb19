from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.figures.across_models import plot_seed_spread_files

plot_seed_spread_files(
    summary=snakemake.input.summary,
    figures=dict(snakemake.output.items()),
    label=snakemake.params.label,
)
