from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.preprocessing.selection import preselect_files

preselect_files(
    events=snakemake.input.parquet,
    selected=snakemake.output.parquet,
    cut=snakemake.params.cut,
    split=snakemake.wildcards.split,
)
