using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tideflow.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class PipelineStages : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Title",
                table: "FollowUpTasks",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Stage",
                table: "Customers",
                type: "TEXT",
                maxLength: 30,
                nullable: false,
                defaultValue: "new");

            migrationBuilder.AddColumn<long>(
                name: "StageChangedAt",
                table: "Customers",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "StageMoves",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CustomerId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Sequence = table.Column<int>(type: "INTEGER", nullable: false),
                    From = table.Column<string>(type: "TEXT", maxLength: 30, nullable: false),
                    To = table.Column<string>(type: "TEXT", maxLength: 30, nullable: false),
                    ById = table.Column<Guid>(type: "TEXT", nullable: false),
                    At = table.Column<long>(type: "INTEGER", nullable: false),
                    LostReason = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    OverrideReason = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    Details = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_StageMoves", x => x.Id);
                    table.ForeignKey(
                        name: "FK_StageMoves_Customers_CustomerId",
                        column: x => x.CustomerId,
                        principalTable: "Customers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Customers_OrganizationId_Stage_StageChangedAt",
                table: "Customers",
                columns: new[] { "OrganizationId", "Stage", "StageChangedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_StageMoves_CustomerId_Sequence",
                table: "StageMoves",
                columns: new[] { "CustomerId", "Sequence" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_StageMoves_OrganizationId_CustomerId_At",
                table: "StageMoves",
                columns: new[] { "OrganizationId", "CustomerId", "At" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "StageMoves");

            migrationBuilder.DropIndex(
                name: "IX_Customers_OrganizationId_Stage_StageChangedAt",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "Title",
                table: "FollowUpTasks");

            migrationBuilder.DropColumn(
                name: "Stage",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "StageChangedAt",
                table: "Customers");
        }
    }
}
