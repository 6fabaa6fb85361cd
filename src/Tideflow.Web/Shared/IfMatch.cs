namespace Tideflow.Web.Shared;

/// <summary>
/// Optimistic concurrency over HTTP for settings an admin edits as a whole (pipeline, score card): the GET answers the
/// version as an <c>ETag</c>, a PUT that sends it back as <c>If-Match</c> is refused with 412 when someone saved since.
/// </summary>
public static class IfMatch
{
    /// <summary>The versions an If-Match names, compared strongly (RFC 9110: a weak tag names none); null without one or with "*".</summary>
    public static List<string>? Versions(HttpRequest request)
    {
        var tags = request.Headers.IfMatch.SelectMany(v => (v ?? "").Split(',')).Select(t => t.Trim()).Where(t => t != "").ToList();
        return tags.Count == 0 || tags.Contains("*") ? null
            : tags.Where(t => t.Length >= 2 && t.StartsWith('"') && t.EndsWith('"')).Select(t => t[1..^1]).ToList();
    }

    public static void Answer(HttpResponse response, string version) => response.Headers.ETag = $"\"{version}\"";
}
