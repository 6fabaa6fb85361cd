using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Tideflow.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ImportReceiptsAndLeanerIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_OwnershipChanges_CustomerId_At",
                table: "OwnershipChanges");

            migrationBuilder.DropIndex(
                name: "IX_OwnershipChanges_LeadId_At",
                table: "OwnershipChanges");

            migrationBuilder.DropIndex(
                name: "IX_LeadTouches_CustomerId_At",
                table: "LeadTouches");

            migrationBuilder.DropIndex(
                name: "IX_LeadTouches_LeadId_At",
                table: "LeadTouches");

            migrationBuilder.DropIndex(
                name: "IX_Leads_OrganizationId_OwnerId",
                table: "Leads");

            migrationBuilder.DropIndex(
                name: "IX_Leads_OwnerId",
                table: "Leads");

            migrationBuilder.DropIndex(
                name: "IX_Leads_PoolId_PooledAt",
                table: "Leads");

            migrationBuilder.DropIndex(
                name: "IX_FollowUpTasks_CustomerId",
                table: "FollowUpTasks");

            migrationBuilder.DropIndex(
                name: "IX_FollowUpTasks_LeadId",
                table: "FollowUpTasks");

            migrationBuilder.DropIndex(
                name: "IX_FollowUpTasks_OrganizationId_OwnerId_ClosedAt_DueAt",
                table: "FollowUpTasks");

            migrationBuilder.DropIndex(
                name: "IX_FollowUpTasks_OwnerId",
                table: "FollowUpTasks");

            migrationBuilder.DropIndex(
                name: "IX_ContactKeys_CustomerId",
                table: "ContactKeys");

            migrationBuilder.DropIndex(
                name: "IX_ContactKeys_LeadId",
                table: "ContactKeys");

            migrationBuilder.CreateTable(
                name: "ImportReceipts",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    OrganizationId = table.Column<Guid>(type: "uuid", nullable: false),
                    FileHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    FirstRow = table.Column<int>(type: "integer", nullable: false),
                    LastRow = table.Column<int>(type: "integer", nullable: false),
                    RejectedRows = table.Column<string>(type: "text", maxLength: 2147483647, nullable: true),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ImportReceipts", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_OwnershipChanges_CustomerId_At",
                table: "OwnershipChanges",
                columns: new[] { "CustomerId", "At" },
                filter: "\"CustomerId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_OwnershipChanges_LeadId_At",
                table: "OwnershipChanges",
                columns: new[] { "LeadId", "At" },
                filter: "\"LeadId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_LeadTouches_CustomerId_At",
                table: "LeadTouches",
                columns: new[] { "CustomerId", "At" },
                filter: "\"CustomerId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_LeadTouches_LeadId_At",
                table: "LeadTouches",
                columns: new[] { "LeadId", "At" },
                filter: "\"LeadId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_Leads_OwnerId_OrganizationId",
                table: "Leads",
                columns: new[] { "OwnerId", "OrganizationId" });

            migrationBuilder.CreateIndex(
                name: "IX_Leads_PoolId_PooledAt",
                table: "Leads",
                columns: new[] { "PoolId", "PooledAt" },
                filter: "\"PoolId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_FollowUpTasks_CustomerId",
                table: "FollowUpTasks",
                column: "CustomerId",
                filter: "\"CustomerId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_FollowUpTasks_LeadId",
                table: "FollowUpTasks",
                column: "LeadId",
                filter: "\"LeadId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_FollowUpTasks_OwnerId_OrganizationId_ClosedAt_DueAt",
                table: "FollowUpTasks",
                columns: new[] { "OwnerId", "OrganizationId", "ClosedAt", "DueAt" });

            migrationBuilder.CreateIndex(
                name: "IX_ContactKeys_CustomerId",
                table: "ContactKeys",
                column: "CustomerId",
                filter: "\"CustomerId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_ContactKeys_LeadId",
                table: "ContactKeys",
                column: "LeadId",
                filter: "\"LeadId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_ImportReceipts_OrganizationId_FileHash_FirstRow",
                table: "ImportReceipts",
                columns: new[] { "OrganizationId", "FileHash", "FirstRow" },
                unique: true);

            // An import before this one left a capture receipt per row, keyed "import:<64-hex file hash>:<row>": each
            // becomes a one-row import receipt, so importing those files again still skips their rows.
            migrationBuilder.Sql("""
                INSERT INTO "ImportReceipts" ("OrganizationId", "FileHash", "FirstRow", "LastRow", "At")
                SELECT "OrganizationId", substr("Key", 8, 64), CAST(substr("Key", 73) AS INTEGER), CAST(substr("Key", 73) AS INTEGER), "At"
                FROM "CaptureReceipts" WHERE substr("Key", 1, 7) = 'import:' AND length("Key") > 72;
                """);
            migrationBuilder.Sql("""DELETE FROM "CaptureReceipts" WHERE substr("Key", 1, 7) = 'import:';""");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Going back forgets which rows of which files were imported: a row receipt needed a lead, which an import
            // receipt does not keep. A file imported again after that finds its leads by their contact keys (no lead
            // twice), but touches them again and keeps its invalid rows again.
            migrationBuilder.DropTable(
                name: "ImportReceipts");

            migrationBuilder.DropIndex(
                name: "IX_OwnershipChanges_CustomerId_At",
                table: "OwnershipChanges");

            migrationBuilder.DropIndex(
                name: "IX_OwnershipChanges_LeadId_At",
                table: "OwnershipChanges");

            migrationBuilder.DropIndex(
                name: "IX_LeadTouches_CustomerId_At",
                table: "LeadTouches");

            migrationBuilder.DropIndex(
                name: "IX_LeadTouches_LeadId_At",
                table: "LeadTouches");

            migrationBuilder.DropIndex(
                name: "IX_Leads_OwnerId_OrganizationId",
                table: "Leads");

            migrationBuilder.DropIndex(
                name: "IX_Leads_PoolId_PooledAt",
                table: "Leads");

            migrationBuilder.DropIndex(
                name: "IX_FollowUpTasks_CustomerId",
                table: "FollowUpTasks");

            migrationBuilder.DropIndex(
                name: "IX_FollowUpTasks_LeadId",
                table: "FollowUpTasks");

            migrationBuilder.DropIndex(
                name: "IX_FollowUpTasks_OwnerId_OrganizationId_ClosedAt_DueAt",
                table: "FollowUpTasks");

            migrationBuilder.DropIndex(
                name: "IX_ContactKeys_CustomerId",
                table: "ContactKeys");

            migrationBuilder.DropIndex(
                name: "IX_ContactKeys_LeadId",
                table: "ContactKeys");

            migrationBuilder.CreateIndex(
                name: "IX_OwnershipChanges_CustomerId_At",
                table: "OwnershipChanges",
                columns: new[] { "CustomerId", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_OwnershipChanges_LeadId_At",
                table: "OwnershipChanges",
                columns: new[] { "LeadId", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_LeadTouches_CustomerId_At",
                table: "LeadTouches",
                columns: new[] { "CustomerId", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_LeadTouches_LeadId_At",
                table: "LeadTouches",
                columns: new[] { "LeadId", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_Leads_OrganizationId_OwnerId",
                table: "Leads",
                columns: new[] { "OrganizationId", "OwnerId" });

            migrationBuilder.CreateIndex(
                name: "IX_Leads_OwnerId",
                table: "Leads",
                column: "OwnerId");

            migrationBuilder.CreateIndex(
                name: "IX_Leads_PoolId_PooledAt",
                table: "Leads",
                columns: new[] { "PoolId", "PooledAt" });

            migrationBuilder.CreateIndex(
                name: "IX_FollowUpTasks_CustomerId",
                table: "FollowUpTasks",
                column: "CustomerId");

            migrationBuilder.CreateIndex(
                name: "IX_FollowUpTasks_LeadId",
                table: "FollowUpTasks",
                column: "LeadId");

            migrationBuilder.CreateIndex(
                name: "IX_FollowUpTasks_OrganizationId_OwnerId_ClosedAt_DueAt",
                table: "FollowUpTasks",
                columns: new[] { "OrganizationId", "OwnerId", "ClosedAt", "DueAt" });

            migrationBuilder.CreateIndex(
                name: "IX_FollowUpTasks_OwnerId",
                table: "FollowUpTasks",
                column: "OwnerId");

            migrationBuilder.CreateIndex(
                name: "IX_ContactKeys_CustomerId",
                table: "ContactKeys",
                column: "CustomerId");

            migrationBuilder.CreateIndex(
                name: "IX_ContactKeys_LeadId",
                table: "ContactKeys",
                column: "LeadId");
        }
    }
}
