using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tideflow.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class PublicPool : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Event",
                table: "OwnershipChanges",
                type: "TEXT",
                maxLength: 20,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "PoolId",
                table: "OwnershipChanges",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ClaimedAt",
                table: "Customers",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "PoolId",
                table: "Customers",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "PoolReason",
                table: "Customers",
                type: "TEXT",
                maxLength: 500,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "PooledAt",
                table: "Customers",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "PreviousOwnerId",
                table: "Customers",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ProtectedUntil",
                table: "Customers",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "ClaimCounts",
                columns: table => new
                {
                    UserId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Day = table.Column<string>(type: "TEXT", maxLength: 10, nullable: false),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Count = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ClaimCounts", x => new { x.UserId, x.Day });
                    table.ForeignKey(
                        name: "FK_ClaimCounts_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Pools",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    IsDefault = table.Column<bool>(type: "INTEGER", nullable: false),
                    Settings = table.Column<string>(type: "TEXT", maxLength: 20000, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Pools", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Pools_Organizations_OrganizationId",
                        column: x => x.OrganizationId,
                        principalTable: "Organizations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "PoolWarnings",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CustomerId = table.Column<Guid>(type: "TEXT", nullable: false),
                    OwnerId = table.Column<Guid>(type: "TEXT", nullable: false),
                    HoursBefore = table.Column<int>(type: "INTEGER", nullable: false),
                    DueAt = table.Column<long>(type: "INTEGER", nullable: false),
                    SentAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_PoolWarnings", x => x.Id);
                    table.ForeignKey(
                        name: "FK_PoolWarnings_Customers_CustomerId",
                        column: x => x.CustomerId,
                        principalTable: "Customers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ScheduledJobs",
                columns: table => new
                {
                    Name = table.Column<string>(type: "TEXT", maxLength: 50, nullable: false),
                    NextRunAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LastStartedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    LastFinishedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    LastResult = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    LastFailed = table.Column<bool>(type: "INTEGER", nullable: false),
                    LeaseUntil = table.Column<long>(type: "INTEGER", nullable: true),
                    LeaseHolder = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ScheduledJobs", x => x.Name);
                });

            migrationBuilder.CreateTable(
                name: "PoolTeams",
                columns: table => new
                {
                    PoolId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TeamId = table.Column<Guid>(type: "TEXT", nullable: false),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_PoolTeams", x => new { x.PoolId, x.TeamId });
                    table.ForeignKey(
                        name: "FK_PoolTeams_Pools_PoolId",
                        column: x => x.PoolId,
                        principalTable: "Pools",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_PoolTeams_Teams_TeamId",
                        column: x => x.TeamId,
                        principalTable: "Teams",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_OwnershipChanges_OrganizationId_PoolId_At",
                table: "OwnershipChanges",
                columns: new[] { "OrganizationId", "PoolId", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_Customers_PoolId_PooledAt",
                table: "Customers",
                columns: new[] { "PoolId", "PooledAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Pools_OrganizationId",
                table: "Pools",
                column: "OrganizationId",
                unique: true,
                filter: "\"IsDefault\" = 1");

            migrationBuilder.CreateIndex(
                name: "IX_Pools_OrganizationId_Name",
                table: "Pools",
                columns: new[] { "OrganizationId", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_PoolTeams_TeamId",
                table: "PoolTeams",
                column: "TeamId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_PoolWarnings_CustomerId_DueAt_HoursBefore",
                table: "PoolWarnings",
                columns: new[] { "CustomerId", "DueAt", "HoursBefore" },
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "FK_Customers_Pools_PoolId",
                table: "Customers",
                column: "PoolId",
                principalTable: "Pools",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            // Reclaim periods run from the assignment; customers created by hand before this had none recorded.
            migrationBuilder.Sql("UPDATE \"Customers\" SET \"AssignedAt\" = \"CreatedAt\" WHERE \"AssignedAt\" IS NULL;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Customers_Pools_PoolId",
                table: "Customers");

            migrationBuilder.DropTable(
                name: "ClaimCounts");

            migrationBuilder.DropTable(
                name: "PoolTeams");

            migrationBuilder.DropTable(
                name: "PoolWarnings");

            migrationBuilder.DropTable(
                name: "ScheduledJobs");

            migrationBuilder.DropTable(
                name: "Pools");

            migrationBuilder.DropIndex(
                name: "IX_OwnershipChanges_OrganizationId_PoolId_At",
                table: "OwnershipChanges");

            migrationBuilder.DropIndex(
                name: "IX_Customers_PoolId_PooledAt",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "Event",
                table: "OwnershipChanges");

            migrationBuilder.DropColumn(
                name: "PoolId",
                table: "OwnershipChanges");

            migrationBuilder.DropColumn(
                name: "ClaimedAt",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "PoolId",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "PoolReason",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "PooledAt",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "PreviousOwnerId",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "ProtectedUntil",
                table: "Customers");
        }
    }
}
