using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Tideflow.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class StickyOwnerIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_Leads_OrganizationId_CompanyKey_ArrivedAt",
                table: "Leads",
                columns: new[] { "OrganizationId", "CompanyKey", "ArrivedAt" },
                filter: "\"OwnerId\" IS NOT NULL AND \"Status\" IN ('New', 'Nurture', 'Qualified')");

            migrationBuilder.CreateIndex(
                name: "IX_Customers_OrganizationId_CompanyKey_CreatedAt",
                table: "Customers",
                columns: new[] { "OrganizationId", "CompanyKey", "CreatedAt" },
                filter: "\"OwnerId\" IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Leads_OrganizationId_CompanyKey_ArrivedAt",
                table: "Leads");

            migrationBuilder.DropIndex(
                name: "IX_Customers_OrganizationId_CompanyKey_CreatedAt",
                table: "Customers");
        }
    }
}
