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

    /// <summary>Runs <paramref name="work"/> while 8 clients keep asking for the rep's customer list; their latencies.</summary>
    public static async Task<(List<double> Latencies, int Errors)> UnderListLoadAsync(HttpClient http, string repToken, Func<Task> work,
        CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var latencies = new List<double>();
        var errors = 0;
        var clients = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var watch = Stopwatch.StartNew();
                try
                {
                    using var r = await SendAsync(http, HttpMethod.Get, "api/customers?page=1&pageSize=25", repToken, null, stop.Token);
                    await r.Content.ReadAsByteArrayAsync(stop.Token);
                    lock (latencies)
                    {
                        if (r.IsSuccessStatusCode) latencies.Add(watch.Elapsed.TotalMilliseconds);
                        else errors++;
                    }
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

    public static double P99(List<double> latencies)
    {
        if (latencies.Count == 0)
        {
            return double.NaN;
        }
        var sorted = latencies.Order().ToList();
        return sorted[(int)Math.Ceiling(sorted.Count * 0.99) - 1];
    }
}
