from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.ingestion.processes import tabulate_processes_files

tabulate_processes_files(parquet=snakemake.input.parquet, table=snakemake.output.table)
