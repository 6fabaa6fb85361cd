using System.Diagnostics;

namespace Tideflow.Web.Tests.Data;

/// <summary>A database that cannot be reached at start is a clear sentence and a non-zero exit, not a stack trace.</summary>
public sealed class StartupFailureTests
{
    private static async Task<(int Exit, string Output)> StartAppAsync(Dictionary<string, string> env)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Tideflow.Web.dll");
        var start = new ProcessStartInfo("dotnet", [dll, "--urls", "http://127.0.0.1:0"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.Environment["Demo__Seed"] = "false";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (k, v) in env)
        {
            start.Environment[k] = v;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    [Fact]
    public async Task PostgreSQL_down_at_start_is_a_clear_message_and_exit_code_1()
    {
        var (exit, output) = await StartAppAsync(new()
        {
            ["Database__Provider"] = "Postgres",
            ["ConnectionStrings__Tideflow"] = "Host=127.0.0.1;Port=1;Username=x;Password=y;Database=z;Timeout=3",
        });
        Assert.Equal(1, exit);
        Assert.Contains("Tideflow cannot start: Cannot reach PostgreSQL", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_sqlite_file_that_cannot_be_created_is_a_clear_message_and_exit_code_1()
    {
        var blocker = Path.GetTempFileName(); // a file where the database folder should be
        try
        {
            var (exit, output) = await StartAppAsync(new()
            {
                ["ConnectionStrings__Tideflow"] = $"Data Source={blocker}/sub/tideflow.db",
            });
            Assert.Equal(1, exit);
            Assert.Contains("Tideflow cannot start: Cannot open the SQLite database", output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(blocker);
        }
    }
}
