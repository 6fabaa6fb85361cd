using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tideflow.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ChannelCapTimeZone : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "CapTimeZone",
                table: "Channels",
                type: "TEXT",
                maxLength: 64,
                nullable: false,
                defaultValue: "Asia/Shanghai");

            // The counts were of UTC days; the next capture of each capped channel counts its day again from its leads.
            migrationBuilder.Sql("DELETE FROM \"ChannelDays\";");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "CapTimeZone",
                table: "Channels");
        }
    }
}
