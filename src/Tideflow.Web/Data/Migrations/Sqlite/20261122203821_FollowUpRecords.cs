using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tideflow.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class FollowUpRecords : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "LastFollowUpAt",
                table: "Customers",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "NextContactAt",
                table: "Customers",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "FollowUpRecords",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CustomerId = table.Column<Guid>(type: "TEXT", nullable: false),
                    AuthorId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Channel = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    Content = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    Goal = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    GoalReached = table.Column<bool>(type: "INTEGER", nullable: false),
                    NextPlan = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true),
                    NextContactAt = table.Column<long>(type: "INTEGER", nullable: true),
                    CorrectsId = table.Column<Guid>(type: "TEXT", nullable: true),
                    At = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_FollowUpRecords", x => x.Id);
                    table.ForeignKey(
                        name: "FK_FollowUpRecords_AspNetUsers_AuthorId",
                        column: x => x.AuthorId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_FollowUpRecords_Customers_CustomerId",
                        column: x => x.CustomerId,
                        principalTable: "Customers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "IX_FollowUpRecords_AuthorId",
                table: "FollowUpRecords",
                column: "AuthorId");

            migrationBuilder.CreateIndex(
                name: "IX_FollowUpRecords_CustomerId",
                table: "FollowUpRecords",
                column: "CustomerId");

            migrationBuilder.CreateIndex(
                name: "IX_FollowUpRecords_OrganizationId_CustomerId_At",
                table: "FollowUpRecords",
                columns: new[] { "OrganizationId", "CustomerId", "At" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "FollowUpRecords");

            migrationBuilder.DropColumn(
                name: "LastFollowUpAt",
                table: "Customers");

            migrationBuilder.DropColumn(
                name: "NextContactAt",
                table: "Customers");
        }
    }
}
