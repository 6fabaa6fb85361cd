namespace Tideflow.Domain.Leads;

/// <summary>Contact details as they arrived from a channel, before any cleaning.</summary>
public sealed record ContactInput(string? Name, string? Company, string? Mobile, string? Email);

/// <summary>Why a lead is invalid (R1.4). Declared in the order problems are reported.</summary>
public enum ContactProblem
{
    /// <summary>Neither a valid mobile nor a valid email remains.</summary>
    NoContact,
    /// <summary>A phone number was given but is not a possible number.</summary>
    InvalidMobile,
    /// <summary>An email was given but is malformed.</summary>
    InvalidEmail,
    /// <summary>The mobile, the email or the email's domain is on the blocklist.</summary>
    Blocklisted,
}

/// <summary>Cleaned contact details (R1.2) and what is wrong with them (R1.4).</summary>
/// <param name="Name">Trimmed, inner whitespace collapsed; null if blank.</param>
/// <param name="Company">Trimmed, collapsed, full-width ASCII folded to half-width; null if blank.</param>
/// <param name="CompanyKey">For matching only, never for display; see <see cref="ContactRules.CompanyKey"/>.</param>
/// <param name="Mobile">E.164; null if absent or invalid.</param>
/// <param name="Email">Trimmed, lower-cased; null if absent or invalid.</param>
/// <param name="Problems">In enum order, no duplicates; empty when the contact is valid.</param>
public sealed record NormalizedContact(
    string? Name,
    string? Company,
    string? CompanyKey,
    string? Mobile,
    string? Email,
    IReadOnlyList<ContactProblem> Problems)
{
    public bool IsValid => Problems.Count == 0;
}
