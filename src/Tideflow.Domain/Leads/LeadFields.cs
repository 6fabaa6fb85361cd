namespace Tideflow.Domain.Leads;

/// <summary>
/// The names rules may test on a lead. Forms and imports send many more fields; a rule naming one that is
/// neither built in nor a custom field the admin defined is refused at save, because it could never match.
/// </summary>
public static class LeadFields
{
    public const string Budget = "budget";
    public const string Urgency = "urgency";
    public const string Authority = "authority";
    public const string Need = "need";
    public const string Industry = "industry";
    public const string Region = "region";
    public const string Product = "product";
    public const string Channel = "channel";
    public const string ChannelKind = "channelKind";
    public const string SourceTag = "sourceTag";
    public const string Campaign = "campaign";
    public const string Name = "name";
    public const string Company = "company";
    public const string Mobile = "mobile";
    public const string Email = "email";
    public const string Tags = "tags";
    /// <summary>Computed: 0–100, how much of name, company, mobile and email the lead has.</summary>
    public const string ContactCompleteness = "contactCompleteness";
    /// <summary>Computed after scoring: the grade's name. Assignment rules may test it; scoring may not.</summary>
    public const string Grade = "grade";

    public static readonly IReadOnlyList<string> ForScoring =
    [
        Budget, Urgency, Authority, Need, Industry, Region, Product, Channel, ChannelKind, SourceTag, Campaign,
        Name, Company, Mobile, Email, Tags, ContactCompleteness,
    ];

    public static readonly IReadOnlyList<string> ForAssignment = [.. ForScoring, Grade];

    /// <summary>Whether <paramref name="field"/> is one of <paramref name="builtIn"/> or a custom field, ignoring case.</summary>
    public static bool IsKnown(string field, IEnumerable<string> builtIn, IEnumerable<string> customFields) =>
        builtIn.Concat(customFields).Contains(field.Trim(), StringComparer.OrdinalIgnoreCase);

    /// <summary>25 points for each of name, company, a mobile and an email being present.</summary>
    public static int Completeness(string? name, string? company, string? mobile, string? email) =>
        new[] { name, company, mobile, email }.Count(v => !string.IsNullOrWhiteSpace(v)) * 25;
}
