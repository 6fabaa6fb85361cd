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

            // The counts were of UTC days, keyed by date alone; the next capture of each capped channel counts its day
            // again from its leads, under a key that names the day's zone.
            migrationBuilder.Sql("DELETE FROM \"ChannelDays\";");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // The older code reads a count's key as a UTC date: let it count again from the leads.
            migrationBuilder.Sql("DELETE FROM \"ChannelDays\";");

            migrationBuilder.DropColumn(
                name: "CapTimeZone",
                table: "Channels");
        }
    }
}
