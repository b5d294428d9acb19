from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.ingestion.root_files import ingest_root_files

ingest_root_files(
    parquet=snakemake.output.parquet,
    process=snakemake.params.process,
    features=snakemake.params.features,
    classes=snakemake.params.classes,
    fill_value=snakemake.params.fill_value,
    step_size=snakemake.params.step_size,
)
