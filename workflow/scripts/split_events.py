from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.preprocessing.splitting import split_events_files
from cmsnn.vocabulary import SPLITS

split_events_files(
    ingested=snakemake.input.parquet,
    splits={split: snakemake.output[split] for split in SPLITS},
    shares=snakemake.output.shares,
    fractions=snakemake.params.fractions,
    seed=snakemake.params.seed,
    signal_class=snakemake.params.signal_class,
    signal_processes=snakemake.params.signal_processes,
)
