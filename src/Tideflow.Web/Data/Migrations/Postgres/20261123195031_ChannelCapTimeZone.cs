using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tideflow.Web.Data.Migrations.Postgres
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
                type: "character varying(64)",
                maxLength: 64,
                nullable: false,
                defaultValue: "Asia/Shanghai");

            // The counts were of UTC days, keyed by date alone; the next capture of each capped channel counts its day
            // again from its leads, under a key that names the day's zone.
            migrationBuilder.Sql("DELETE FROM \"ChannelDays\";");

            migrationBuilder.AlterColumn<string>(
                name: "Day",
                table: "ChannelDays",
                type: "character varying(80)",
                maxLength: 80,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(10)",
                oldMaxLength: 10);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // The older code reads a count's key as a UTC date: let it count again from the leads.
            migrationBuilder.Sql("DELETE FROM \"ChannelDays\";");

            migrationBuilder.DropColumn(
                name: "CapTimeZone",
                table: "Channels");

            migrationBuilder.AlterColumn<string>(
                name: "Day",
                table: "ChannelDays",
                type: "character varying(10)",
                maxLength: 10,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(80)",
                oldMaxLength: 80);
        }
    }
}
