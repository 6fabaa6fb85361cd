using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Tideflow.Web.Tests.Infrastructure;

/// <summary>
/// Makes something happen at an exact point of a save, as a concurrent request on another node might: once armed, the
/// first time the node reads contact keys (a capture or import batch looking for duplicates), <c>meanwhile</c> runs
/// before the batch goes on to judge and write. Install it with <see cref="TideflowApp.SecondNode"/>.
/// </summary>
public sealed class AfterContactKeyRead(Func<Task> meanwhile) : DbCommandInterceptor
{
    private int fired;
    private volatile bool armed;
    public bool Fired => fired == 1;

    /// <summary>Called once the node has started and the arranging is done, so only the work under test meets it.</summary>
    public void Arm() => armed = true;

    public override async ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result,
        CancellationToken ct = default)
    {
        if (armed && command.CommandText.Contains("FROM \"ContactKeys\"", StringComparison.Ordinal) && Interlocked.Exchange(ref fired, 1) == 0)
        {
            await meanwhile();
        }
        return result;
    }
}
