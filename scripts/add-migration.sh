#!/usr/bin/env bash
# Generates the migration for both providers from the same model change.
set -euo pipefail
name=${1:?usage: scripts/add-migration.sh MigrationName}
cd "$(dirname "$0")/.."
dotnet tool restore >/dev/null
for p in Sqlite Postgres; do
  dotnet ef migrations add "$name" --project src/Tideflow.Web --context "${p}TideflowDbContext" --output-dir "Data/Migrations/$p"
done
