using Microsoft.AspNetCore.Components;
using MudBlazor;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Pool;

/// <summary>How the pool panels of a customer and of a lead run an action: done → snackbar and reload; refused → the reason under the panel.</summary>
public static class PoolActions
{
    public static async Task RunAsync(ISnackbar snackbar, Func<Task> work, string done, EventCallback changed, Action<string?> showError)
    {
        try
        {
            showError(null);
            await work();
            snackbar.Add(done, Severity.Success);
            await changed.InvokeAsync();
        }
        catch (Problem p)
        {
            showError(p.Errors is { Count: > 0 } e ? string.Join(" ", e.Values.SelectMany(v => v)) : p.Message);
        }
    }
}
