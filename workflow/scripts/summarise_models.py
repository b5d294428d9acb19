from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.summary.tables import summarise_files

summarise_files(snakemake.input, snakemake.params, snakemake.output)
