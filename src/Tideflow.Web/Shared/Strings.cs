namespace Tideflow.Web.Shared;

/// <summary>Marker for the UI strings in Strings.resx (English) and Strings.zh-CN.resx.</summary>
public sealed class Strings;
