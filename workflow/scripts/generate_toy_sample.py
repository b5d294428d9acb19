from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.ingestion.toydata import generate_toy_sample_files

generate_toy_sample_files(
    csv=snakemake.output.csv,
    process=snakemake.params.process,
    parameters=snakemake.params.parameters,
    events_scale=snakemake.params.events_scale,
    seed=snakemake.params.seed,
)
