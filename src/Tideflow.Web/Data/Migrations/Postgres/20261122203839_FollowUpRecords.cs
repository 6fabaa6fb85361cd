using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tideflow.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class FollowUpRecords : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "LastFollowUpAt",
                table: "Customers",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "NextContactAt",
                table: "Customers",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "FollowUpRecords",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    OrganizationId = table.Column<Guid>(type: "uuid", nullable: false),
                    CustomerId = table.Column<Guid>(type: "uuid", nullable: false),
                    AuthorId = table.Column<Guid>(type: "uuid", nullable: false),
                    Channel = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Content = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    Goal = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    GoalReached = table.Column<bool>(type: "boolean", nullable: false),
                    NextPlan = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    NextContactAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    CorrectsId = table.Column<Guid>(type: "uuid", nullable: true),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
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
