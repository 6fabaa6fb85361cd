using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tideflow.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class LeadPools : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "PoolId",
                table: "Leads",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "PoolReason",
                table: "Leads",
                type: "character varying(500)",
                maxLength: 500,
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "PooledAt",
                table: "Leads",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "PreviousOwnerId",
                table: "Leads",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_Leads_PoolId_PooledAt",
                table: "Leads",
                columns: new[] { "PoolId", "PooledAt" });

            migrationBuilder.AddForeignKey(
                name: "FK_Leads_Pools_PoolId",
                table: "Leads",
                column: "PoolId",
                principalTable: "Pools",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            // Open leads nobody owned waited for a manager; they now wait in the default pool (线索池), where the reps of
            // that pool can claim them. Managers still see every unassigned lead, so nothing drops out of anyone's view;
            // an organisation without a default pool yet keeps its leads unpooled, as before.
            migrationBuilder.Sql("UPDATE \"Leads\" SET \"PoolId\" = (SELECT p.\"Id\" FROM \"Pools\" AS p WHERE p.\"OrganizationId\" = \"Leads\".\"OrganizationId\" AND p.\"IsDefault\"), \"PooledAt\" = \"UpdatedAt\", \"PoolReason\" = 'unassigned before lead pools' WHERE \"OwnerId\" IS NULL AND \"Status\" = 'New' AND EXISTS (SELECT 1 FROM \"Pools\" AS p WHERE p.\"OrganizationId\" = \"Leads\".\"OrganizationId\" AND p.\"IsDefault\");");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Leads_Pools_PoolId",
                table: "Leads");

            migrationBuilder.DropIndex(
                name: "IX_Leads_PoolId_PooledAt",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "PoolId",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "PoolReason",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "PooledAt",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "PreviousOwnerId",
                table: "Leads");
        }
    }
}
