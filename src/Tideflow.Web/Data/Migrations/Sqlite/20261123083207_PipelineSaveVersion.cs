using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tideflow.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class PipelineSaveVersion : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {

        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {

        }
    }
}
