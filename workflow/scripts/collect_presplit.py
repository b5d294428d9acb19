from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.preprocessing.splitting import collect_presplit_files
from cmsnn.vocabulary import SPLITS

collect_presplit_files(
    ingested={split: snakemake.input[split] for split in SPLITS},
    splits={split: snakemake.output[split] for split in SPLITS},
    shares=snakemake.output.shares,
    signal_class=snakemake.params.signal_class,
    signal_processes=snakemake.params.signal_processes,
)
