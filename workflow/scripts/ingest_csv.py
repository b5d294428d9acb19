from cmsnn.logs import redirect_output_to_log

redirect_output_to_log(snakemake.log[0])

from cmsnn.ingestion.csv_files import ingest_csv_files

ingest_csv_files(
    csv=snakemake.input.csv,
    parquet=snakemake.output.parquet,
    features=snakemake.params.features,
    weight_column=snakemake.params.weight_column,
    process_column=snakemake.params.process_column,
    header=snakemake.params.header,
    classes=snakemake.params.classes,
)
