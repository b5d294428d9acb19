from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.ingestion.toydata import write_toy_sample

write_toy_sample(
    snakemake.output.csv,
    snakemake.params.process,
    snakemake.params.parameters,
    snakemake.params.events_scale,
    snakemake.params.seed,
)
