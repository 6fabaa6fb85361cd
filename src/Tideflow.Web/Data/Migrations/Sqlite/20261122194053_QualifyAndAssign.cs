using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tideflow.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class QualifyAndAssign : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "AssignedAt",
                table: "Leads",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "BantAuthority",
                table: "Leads",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "BantBudget",
                table: "Leads",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "BantNeed",
                table: "Leads",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "BantNotes",
                table: "Leads",
                type: "TEXT",
                maxLength: 1000,
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "BantTimeline",
                table: "Leads",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<long>(
                name: "BehaviourAsOf",
                table: "Leads",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "BehaviourCount",
                table: "Leads",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<double>(
                name: "BehaviourPoints",
                table: "Leads",
                type: "REAL",
                nullable: false,
                defaultValue: 0.0);

            migrationBuilder.AddColumn<Guid>(
                name: "CustomerId",
                table: "Leads",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "DecidedAt",
                table: "Leads",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "DisqualifyReason",
                table: "Leads",
                type: "TEXT",
                maxLength: 500,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Fields",
                table: "Leads",
                type: "TEXT",
                maxLength: 65536,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Grade",
                table: "Leads",
                type: "TEXT",
                maxLength: 20,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Score",
                table: "Leads",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ScoreBreakdown",
                table: "Leads",
                type: "TEXT",
                maxLength: 8000,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "ScoreVersion",
                table: "Leads",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ScoredAt",
                table: "Leads",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "AssignedAt",
                table: "Customers",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "CompanyKey",
                table: "Customers",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Grade",
                table: "Customers",
                type: "TEXT",
                maxLength: 20,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "LeadId",
                table: "Customers",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Score",
                table: "Customers",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Capacity",
                table: "AspNetUsers",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "AssignmentRules",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Position = table.Column<int>(type: "INTEGER", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Conditions = table.Column<string>(type: "TEXT", maxLength: 8000, nullable: false),
                    Target = table.Column<string>(type: "TEXT", maxLength: 10, nullable: false),
                    RepId = table.Column<Guid>(type: "TEXT", nullable: true),
                    TeamId = table.Column<Guid>(type: "TEXT", nullable: true),
                    Method = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    RerouteOnRegrade = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AssignmentRules", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "BehaviourEvents",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    LeadId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Type = table.Column<string>(type: "TEXT", maxLength: 50, nullable: false),
                    Points = table.Column<int>(type: "INTEGER", nullable: false),
                    At = table.Column<long>(type: "INTEGER", nullable: false),
                    ReceivedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_BehaviourEvents", x => x.Id);
                    table.ForeignKey(
                        name: "FK_BehaviourEvents_Leads_LeadId",
                        column: x => x.LeadId,
                        principalTable: "Leads",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "FollowUpTasks",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    OwnerId = table.Column<Guid>(type: "TEXT", nullable: false),
                    LeadId = table.Column<Guid>(type: "TEXT", nullable: true),
                    CustomerId = table.Column<Guid>(type: "TEXT", nullable: true),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 30, nullable: false),
                    DueAt = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ClosedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    ClosedReason = table.Column<string>(type: "TEXT", maxLength: 30, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_FollowUpTasks", x => x.Id);
                    table.ForeignKey(
                        name: "FK_FollowUpTasks_AspNetUsers_OwnerId",
                        column: x => x.OwnerId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_FollowUpTasks_Customers_CustomerId",
                        column: x => x.CustomerId,
                        principalTable: "Customers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_FollowUpTasks_Leads_LeadId",
                        column: x => x.LeadId,
                        principalTable: "Leads",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "OwnershipChanges",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    LeadId = table.Column<Guid>(type: "TEXT", nullable: true),
                    CustomerId = table.Column<Guid>(type: "TEXT", nullable: true),
                    FromId = table.Column<Guid>(type: "TEXT", nullable: true),
                    ToId = table.Column<Guid>(type: "TEXT", nullable: true),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    Rule = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    ById = table.Column<Guid>(type: "TEXT", nullable: true),
                    At = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_OwnershipChanges", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "RepAbsences",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    UserId = table.Column<Guid>(type: "TEXT", nullable: false),
                    From = table.Column<long>(type: "INTEGER", nullable: false),
                    Until = table.Column<long>(type: "INTEGER", nullable: false),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RepAbsences", x => x.Id);
                    table.ForeignKey(
                        name: "FK_RepAbsences_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "RescoreJobs",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Version = table.Column<int>(type: "INTEGER", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    Total = table.Column<int>(type: "INTEGER", nullable: false),
                    Done = table.Column<int>(type: "INTEGER", nullable: false),
                    Regraded = table.Column<int>(type: "INTEGER", nullable: false),
                    Error = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    CreatedById = table.Column<Guid>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    FinishedAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RescoreJobs", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ScoreCardVersions",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Version = table.Column<int>(type: "INTEGER", nullable: false),
                    Card = table.Column<string>(type: "TEXT", maxLength: 2147483647, nullable: false),
                    CreatedById = table.Column<Guid>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ScoreCardVersions", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "TeamTurns",
                columns: table => new
                {
                    TeamId = table.Column<Guid>(type: "TEXT", nullable: false),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Turn = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TeamTurns", x => x.TeamId);
                    table.ForeignKey(
                        name: "FK_TeamTurns_Teams_TeamId",
                        column: x => x.TeamId,
                        principalTable: "Teams",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Leads_OrganizationId_CompanyKey",
                table: "Leads",
                columns: new[] { "OrganizationId", "CompanyKey" });

            migrationBuilder.CreateIndex(
                name: "IX_Customers_OrganizationId_CompanyKey",
                table: "Customers",
                columns: new[] { "OrganizationId", "CompanyKey" });

            migrationBuilder.CreateIndex(
                name: "IX_BehaviourEvents_LeadId_At",
                table: "BehaviourEvents",
                columns: new[] { "LeadId", "At" });

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
                name: "IX_OwnershipChanges_CustomerId_At",
                table: "OwnershipChanges",
                columns: new[] { "CustomerId", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_OwnershipChanges_LeadId_At",
                table: "OwnershipChanges",
                columns: new[] { "LeadId", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_RepAbsences_UserId_Until",
                table: "RepAbsences",
                columns: new[] { "UserId", "Until" });

            migrationBuilder.CreateIndex(
                name: "IX_ScoreCardVersions_OrganizationId_Version",
                table: "ScoreCardVersions",
                columns: new[] { "OrganizationId", "Version" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AssignmentRules");

            migrationBuilder.DropTable(
                name: "BehaviourEvents");

            migrationBuilder.DropTable(
                name: "FollowUpTasks");

            migrationBuilder.DropTable(
                name: "OwnershipChanges");

            migrationBuilder.DropTable(
                name: "RepAbsences");

            migrationBuilder.DropTable(
                name: "RescoreJobs");

            migrationBuilder.DropTable(
                name: "ScoreCardVersions");

            migrationBuilder.DropTable(
                name: "TeamTurns");

            migrationBuilder.DropIndex(
                name: "IX_Leads_OrganizationId_CompanyKey",
                table: "Leads");

            migrationBuilder.DropIndex(
                name: "IX_Customers_OrganizationId_CompanyKey",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "AssignedAt",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "BantAuthority",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "BantBudget",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "BantNeed",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "BantNotes",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "BantTimeline",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "BehaviourAsOf",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "BehaviourCount",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "BehaviourPoints",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "CustomerId",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "DecidedAt",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "DisqualifyReason",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "Fields",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "Grade",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "Score",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "ScoreBreakdown",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "ScoreVersion",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "ScoredAt",
                table: "Leads");

            migrationBuilder.DropColumn(
                name: "AssignedAt",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "CompanyKey",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "Grade",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "LeadId",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "Score",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "Capacity",
                table: "AspNetUsers");
        }
    }
}
