from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.figures.mass_points import plot_mass_point_comparison_files

plot_mass_point_comparison_files(
    table=snakemake.input.table,
    figures=dict(snakemake.output.items()),
    label=snakemake.params.label,
)
