using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tideflow.Web.Data.Migrations.Sqlite
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
                type: "INTEGER",
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
