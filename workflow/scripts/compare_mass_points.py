from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.statistics.mass_point_comparison import compare_mass_points_files

compare_mass_points_files(
    inputs={key: list(files) for key, files in snakemake.input.items() if key != "shares"},
    shares=snakemake.input.shares,
    table=snakemake.output.table,
    training_time=snakemake.output.training_time,
    task=snakemake.params.task,
    options=snakemake.params.options,
    fom_options=snakemake.params.fom,
    held_out=snakemake.params.held_out,
    dedicated=snakemake.params.dedicated,
    signal_masses=snakemake.params.signal_masses,
)
