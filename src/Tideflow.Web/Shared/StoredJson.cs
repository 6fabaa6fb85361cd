using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tideflow.Web.Shared;

/// <summary>
/// JSON the app writes into its own columns (payloads, settings, field values). Chinese stays UTF-8 text rather than
/// \uXXXX escapes: half the bytes for each Chinese character, and readable wherever it is shown — every page renders it
/// HTML-escaped, so nothing the relaxed encoder leaves unescaped reaches a page as markup.
/// </summary>
public static class StoredJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
