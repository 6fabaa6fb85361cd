using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;

namespace Tideflow.Web;

/// <summary>What a person who just typed `dotnet run` needs: where to go and how to log in.</summary>
internal static class Banner
{
    public static void Print(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        using var scope = app.Services.CreateScope();
        scope.ServiceProvider.GetRequiredService<CurrentUser>().Set(DataScope.System);
        var db = scope.ServiceProvider.GetRequiredService<TideflowDbContext>();
        var demo = DemoOrganisation.ExistsAsync(db).GetAwaiter().GetResult();
        var provider = db.Database.ProviderName?.Contains("Sqlite", StringComparison.Ordinal) == true ? "SQLite" : "PostgreSQL";
        Console.WriteLine();
        Console.WriteLine($"  Tideflow is running on {provider}: {string.Join("  ", addresses)}");
        if (demo)
        {
            Console.WriteLine($"  Demo logins (password \"{DemoOrganisation.Password}\" unless changed):");
            foreach (var (userName, displayName, role, team) in DemoOrganisation.People)
            {
                Console.WriteLine($"    {userName,-14} {role,-8} {team} · {displayName}");
            }
        }
        Console.WriteLine("  API reference: /scalar   OpenAPI: /openapi/v1.json   Health: /health/ready");
        Console.WriteLine();
    }
}
