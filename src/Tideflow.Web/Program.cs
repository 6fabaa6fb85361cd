using Tideflow.Web;
using Tideflow.Web.Data;

var builder = WebApplication.CreateBuilder(args);
builder.AddTideflow();
var app = builder.Build();
app.UseTideflow();

try
{
    await app.Services.GetRequiredService<DatabaseStartup>().PrepareAsync();
}
catch (DatabaseUnavailableException e)
{
    await Console.Error.WriteLineAsync($"Tideflow cannot start: {e.Message}");
    return 1;
}

app.Lifetime.ApplicationStarted.Register(() => Banner.Print(app));
await app.RunAsync();
return 0;

public partial class Program;
