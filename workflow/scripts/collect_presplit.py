from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.preprocessing.splitting import collect_presplit_files

collect_presplit_files(
    snakemake.input,
    snakemake.output,
    signal_class=snakemake.params.signal_class,
    signal_processes=snakemake.params.signal_processes,
)
