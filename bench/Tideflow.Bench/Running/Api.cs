using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Tideflow.Bench.Running;

/// <summary>Calls to the app under test, with a bearer token, and the customer-list load that runs beside long jobs.</summary>
public static class Api
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string token, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body, Json), Encoding.UTF8, "application/json");
        }
        return await http.SendAsync(request, ct);
    }

    public static async Task<JsonElement> JsonAsync(HttpClient http, HttpMethod method, string path, string token, object? body, CancellationToken ct)
    {
        using var response = await SendAsync(http, method, path, token, body, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{method} /{path} answered {(int)response.StatusCode}: {text}");
        }
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Clients of the background list load.</summary>
    public const int ListClients = 8;

    /// <summary>
    /// Runs <paramref name="work"/> while <see cref="ListClients"/> clients ask for the rep's customer list; their latencies.
    /// With <paramref name="rate"/> &gt; 0 the clients together start that many requests a second on a fixed schedule,
    /// and a latency runs from a request's scheduled start, so time spent waiting behind a slow answer counts (no
    /// coordinated omission). With 0 each client asks again as soon as it has its answer: a load that takes whatever
    /// CPU the machine has left, so the job beside it gets only its share of the cores.
    /// </summary>
    public static async Task<(List<double> Latencies, int Errors)> UnderListLoadAsync(HttpClient http, string repToken, int rate, Func<Task> work,
        CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var latencies = new List<double>();
        var errors = 0;
        var clock = Stopwatch.StartNew();
        var period = rate > 0 ? TimeSpan.FromSeconds((double)ListClients / rate) : TimeSpan.Zero;
        var clients = Enumerable.Range(0, ListClients).Select(client => Task.Run(async () =>
        {
            // Clients spread over one period, so the requests do not arrive in bursts of eight.
            var due = period * client / ListClients;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    if (rate > 0 && due > clock.Elapsed)
                    {
                        await Task.Delay(due - clock.Elapsed, stop.Token);
                    }
                    var from = rate > 0 ? due : clock.Elapsed;
                    using var r = await SendAsync(http, HttpMethod.Get, "api/customers?page=1&pageSize=25", repToken, null, stop.Token);
                    await r.Content.ReadAsByteArrayAsync(stop.Token);
                    lock (latencies)
                    {
                        if (r.IsSuccessStatusCode) latencies.Add((clock.Elapsed - from).TotalMilliseconds);
                        else errors++;
                    }
                    due += period;
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
            }
        }, CancellationToken.None)).ToList();
        try
        {
            await work();
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(clients);
        }
        return (latencies, errors);
    }

    /// <summary>How a result row names the list load.</summary>
    public static string ListLoad(int rate) => rate > 0 ? $"{ListClients} clients, {rate}/s" : $"{ListClients} clients, back to back";

    public static double P99(List<double> latencies) => Percentile(latencies, 0.99);

    /// <summary>The <paramref name="p"/> quantile (0.5, 0.99 …) of the latencies, nearest rank; NaN when there are none.</summary>
    public static double Percentile(List<double> latencies, double p)
    {
        if (latencies.Count == 0)
        {
            return double.NaN;
        }
        var sorted = latencies.Order().ToList();
        return sorted[(int)Math.Ceiling(sorted.Count * p) - 1];
    }
}
