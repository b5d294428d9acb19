from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.preprocessing.selection import preselect_file

preselect_file(
    snakemake.input.parquet,
    snakemake.output.parquet,
    cut=snakemake.params.cut,
    split=snakemake.wildcards.split,
)
