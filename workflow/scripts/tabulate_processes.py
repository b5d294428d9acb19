from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.ingestion.processes import tabulate_process_files

tabulate_process_files(snakemake.input.parquet, snakemake.output.table)
