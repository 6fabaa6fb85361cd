using System.Globalization;
using System.Text;
using PhoneNumbers;

namespace Tideflow.Domain.Leads;

/// <summary>Cleaning contact details so the same person is recognised however they were typed (R1.2, R1.4).</summary>
public static class ContactRules
{
    private static readonly PhoneNumberUtil Phones = PhoneNumberUtil.GetInstance();

    // Longest first, so 股份有限公司 is not left as 股份 after stripping 有限公司.
    private static readonly string[] ChineseSuffixes = ["股份有限公司", "有限责任公司", "有限公司", "集团", "公司"];

    // Compared as whole words: stripping "co" from inside a name would turn Costco into "cost".
    private static readonly HashSet<string> LatinSuffixes = new(StringComparer.Ordinal)
    {
        "co", "company", "ltd", "limited", "inc", "incorporated", "llc", "corp", "corporation", "plc",
    };

    private const int MaxEmailLength = 254;

    /// <summary>
    /// The number in E.164, or null. <paramref name="invalid"/> is true when something was given but it is
    /// not a valid number; blank input is simply absent. Numbers with + or 00 keep their own country;
    /// others are read as numbers of <paramref name="defaultRegion"/>. Landlines count, not only mobiles.
    /// </summary>
    public static string? NormalizePhone(string? raw, string defaultRegion, out bool invalid)
    {
        invalid = false;
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }
        // libphonenumber reads letters as a vanity number ("1-800-FLOWERS" becomes a valid Chinese mobile)
        // and silently drops "ext 12"; in a lead form, letters mean the field holds something else.
        if (raw.Any(char.IsLetter))
        {
            invalid = true;
            return null;
        }
        try
        {
            // Region codes are case-sensitive in libphonenumber; "cn" would reject every national number.
            var number = Phones.Parse(raw, defaultRegion.ToUpperInvariant());
            if (Phones.IsValidNumber(number))
            {
                return Phones.Format(number, PhoneNumberFormat.E164);
            }
        }
        catch (NumberParseException)
        {
            // Not a number at all ("---", "+86"): the same outcome as an impossible one.
        }
        invalid = true;
        return null;
    }

    /// <summary>
    /// The address trimmed and lower-cased, or null. <paramref name="invalid"/> is true when something was
    /// given but it is not a plausible address; blank input is simply absent.
    /// </summary>
    public static string? NormalizeEmail(string? raw, out bool invalid)
    {
        invalid = false;
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }
        // Chinese input methods type ＠ and ．; they are meant as @ and .
        var email = FoldWidth(raw).Trim();
        if (email.Length >= 2 && email[0] == '<' && email[^1] == '>')
        {
            email = email[1..^1].Trim();
        }
        if (email.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase))
        {
            email = email["mailto:".Length..].Trim();
        }
        email = email.ToLowerInvariant();
        if (!IsPlausibleEmail(email))
        {
            invalid = true;
            return null;
        }
        return email;
    }

    /// <summary>Trimmed, runs of whitespace (including the ideographic space) made one space; null if blank.</summary>
    public static string? NormalizeName(string? raw) => CollapseWhitespace(raw);

    /// <summary>Like a name, with full-width letters, digits and punctuation folded to ASCII.</summary>
    public static string? NormalizeCompany(string? raw) => raw is null ? null : CollapseWhitespace(FoldWidth(raw));

    /// <summary>
    /// What two spellings of one company have in common: lower-cased, without spaces, punctuation or brackets,
    /// and without legal-form suffixes, so "深圳市 恒信商贸有限公司" and "深圳市恒信商贸(有限公司)" match.
    /// Null if nothing is left. Never shown to users.
    /// </summary>
    public static string? CompanyKey(string? company)
    {
        var normalized = NormalizeCompany(company);
        if (normalized is null)
        {
            return null;
        }
        // Punctuation becomes a word break first, so "Co.,Ltd." still splits into the words co and ltd.
        var text = new StringBuilder(normalized.Length);
        foreach (var c in normalized.Normalize(NormalizationForm.FormKC).ToLowerInvariant())
        {
            text.Append(char.IsLetterOrDigit(c) ? c : ' ');
        }
        var words = text.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        // A suffix is only dropped while something remains: a company literally called "公司" keeps that key.
        while (words.Count > 1 && LatinSuffixes.Contains(words[^1]))
        {
            words.RemoveAt(words.Count - 1);
        }
        var key = string.Concat(words);
        var stripped = true;
        while (stripped)
        {
            stripped = false;
            foreach (var suffix in ChineseSuffixes)
            {
                if (key.Length > suffix.Length && key.EndsWith(suffix, StringComparison.Ordinal))
                {
                    key = key[..^suffix.Length];
                    stripped = true;
                    break;
                }
            }
        }
        return key.Length == 0 ? null : key;
    }

    /// <summary>
    /// Everything above, plus what makes the lead invalid (R1.4). The blocklist holds normalized values
    /// (E.164 numbers, addresses, domains such as mailinator.com) and is compared ignoring case; pass a
    /// set built with <see cref="StringComparer.OrdinalIgnoreCase"/> to avoid a scan per lead.
    /// </summary>
    public static NormalizedContact Normalize(ContactInput input, IReadOnlySet<string> blocklist, string defaultRegion = "CN")
    {
        var mobile = NormalizePhone(input.Mobile, defaultRegion, out var invalidMobile);
        var email = NormalizeEmail(input.Email, out var invalidEmail);
        var company = NormalizeCompany(input.Company);

        var blocked = IsBlocked(mobile, blocklist)
            || IsBlocked(email, blocklist)
            || (email is not null && IsBlocked(email[(email.LastIndexOf('@') + 1)..], blocklist));

        // Added in enum order, each at most once, so callers can compare and display them stably.
        var problems = new List<ContactProblem>();
        if (mobile is null && email is null)
        {
            problems.Add(ContactProblem.NoContact);
        }
        if (invalidMobile)
        {
            problems.Add(ContactProblem.InvalidMobile);
        }
        if (invalidEmail)
        {
            problems.Add(ContactProblem.InvalidEmail);
        }
        if (blocked)
        {
            problems.Add(ContactProblem.Blocklisted);
        }

        return new NormalizedContact(NormalizeName(input.Name), company, CompanyKey(company), mobile, email, problems);
    }

    private static bool IsBlocked(string? value, IReadOnlySet<string> blocklist) =>
        value is not null
        && (blocklist.Contains(value)
            || (!(blocklist is HashSet<string> set && set.Comparer.Equals(StringComparer.OrdinalIgnoreCase))
                && blocklist.Any(entry => string.Equals(entry, value, StringComparison.OrdinalIgnoreCase))));

    // Deliberately stricter than MailAddress, which accepts display names and "a@b" without a dot.
    private static bool IsPlausibleEmail(string email)
    {
        if (email.Length > MaxEmailLength || email.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return false;
        }
        var at = email.IndexOf('@');
        if (at <= 0 || at != email.LastIndexOf('@'))
        {
            return false;
        }
        var local = email[..at];
        if (local.Any(c => "()<>[]\\,;:\"".Contains(c)) || local[0] == '.' || local[^1] == '.' || local.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }
        // Every label non-empty, letters (including IDN), digits or inner hyphens, and at least two labels.
        var labels = email[(at + 1)..].Split('.');
        return labels.Length >= 2 && labels.All(label =>
            label.Length > 0 && label[0] != '-' && label[^1] != '-' && label.All(c => char.IsLetterOrDigit(c) || c == '-'));
    }

    // Full-width forms U+FF01–U+FF5E sit exactly 0xFEE0 above their ASCII twins; U+3000 is the ideographic space.
    private static string FoldWidth(string raw)
    {
        var chars = raw.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = chars[i] switch
            {
                >= '\uFF01' and <= '\uFF5E' => (char)(chars[i] - 0xFEE0),
                '\u3000' => ' ',
                _ => chars[i],
            };
        }
        return new string(chars);
    }

    private static string? CollapseWhitespace(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }
        return string.Join(' ', raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }
}
