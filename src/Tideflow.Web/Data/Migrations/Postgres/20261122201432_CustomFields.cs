using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tideflow.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class CustomFields : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "Rejected",
                table: "ImportJobs",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "Fields",
                table: "Customers",
                type: "character varying(65536)",
                maxLength: 65536,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "CustomFields",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    OrganizationId = table.Column<Guid>(type: "uuid", nullable: false),
                    Key = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    Label = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: false),
                    Type = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Options = table.Column<string>(type: "character varying(16384)", maxLength: 16384, nullable: false),
                    Required = table.Column<bool>(type: "boolean", nullable: false),
                    AppliesTo = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Position = table.Column<int>(type: "integer", nullable: false),
                    IsArchived = table.Column<bool>(type: "boolean", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CustomFields", x => x.Id);
                });

            // Custom field values for list filters (CustomFieldValue.Text / Number in the model).
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION tideflow_field(fields text, key text) RETURNS text
                LANGUAGE sql IMMUTABLE PARALLEL SAFE
                AS $$ SELECT (fields::jsonb) ->> key $$;
                """);
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION tideflow_field_number(fields text, key text) RETURNS double precision
                LANGUAGE sql IMMUTABLE PARALLEL SAFE
                AS $$ SELECT CASE WHEN ((fields::jsonb) ->> key) ~ '^-?[0-9]+(\.[0-9]+)?$' THEN ((fields::jsonb) ->> key)::double precision END $$;
                """);

            migrationBuilder.CreateIndex(
                name: "IX_CustomFields_OrganizationId_Key",
                table: "CustomFields",
                columns: new[] { "OrganizationId", "Key" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS tideflow_field_number(text, text);");
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS tideflow_field(text, text);");

            migrationBuilder.DropTable(
                name: "CustomFields");

            migrationBuilder.DropColumn(
                name: "Rejected",
                table: "ImportJobs");

            migrationBuilder.DropColumn(
                name: "Fields",
                table: "Customers");
        }
    }
}
