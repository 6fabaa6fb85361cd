using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tideflow.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class LeadMerge : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "MergedIntoId",
                table: "Leads",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "LeadMerge",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    SurvivorId = table.Column<Guid>(type: "TEXT", nullable: false),
                    MergedId = table.Column<Guid>(type: "TEXT", nullable: false),
                    MergedStatusBefore = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    Moved = table.Column<string>(type: "TEXT", maxLength: 2147483647, nullable: false),
                    ById = table.Column<Guid>(type: "TEXT", nullable: false),
                    At = table.Column<long>(type: "INTEGER", nullable: false),
                    UndoneAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_LeadMerge", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_LeadMerge_MergedId",
                table: "LeadMerge",
                column: "MergedId");

            migrationBuilder.CreateIndex(
                name: "IX_LeadMerge_SurvivorId",
                table: "LeadMerge",
                column: "SurvivorId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "LeadMerge");

            migrationBuilder.DropColumn(
                name: "MergedIntoId",
                table: "Leads");
        }
    }
}
