using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tideflow.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class WorkbenchIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_FollowUpTasks_OpenContact",
                table: "FollowUpTasks",
                columns: new[] { "OrganizationId", "OwnerId", "CustomerId", "Kind", "DueAt" },
                filter: "\"ClosedAt\" IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_FollowUpTasks_OpenContact",
                table: "FollowUpTasks");
        }
    }
}
