using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tideflow.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class FollowUpPlansVersion : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "Version",
                table: "FollowUpPlans",
                type: "integer",
                nullable: false,
                defaultValue: 0);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Version",
                table: "FollowUpPlans");
        }
    }
}
