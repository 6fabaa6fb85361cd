namespace Tideflow.Domain.Leads;

/// <summary>When two contacts are the same person (R1.3).</summary>
public static class DuplicateRules
{
    /// <summary>
    /// The exact keys a new arrival is matched on: its normalized mobile and email, whichever exist.
    /// Prefixed so a number can never collide with an address.
    /// </summary>
    public static IReadOnlyList<string> Keys(NormalizedContact contact)
    {
        var keys = new List<string>(2);
        if (contact.Mobile is not null)
        {
            keys.Add("m:" + contact.Mobile);
        }
        if (contact.Email is not null)
        {
            keys.Add("e:" + contact.Email);
        }
        return keys;
    }

    /// <summary>
    /// A hint for the managers' review list, never an automatic merge: same company key and similar names
    /// (equal, one typo apart like 王芳/王方, or one containing the other like 张伟/张伟总).
    /// Single-character names only count when equal; otherwise one surname would match half the company.
    /// </summary>
    public static bool IsSuspectedDuplicate(NormalizedContact a, NormalizedContact b)
    {
        if (a.CompanyKey is null || b.CompanyKey is null || !string.Equals(a.CompanyKey, b.CompanyKey, StringComparison.Ordinal))
        {
            return false;
        }
        var x = ContactRules.NormalizeName(a.Name)?.ToLowerInvariant();
        var y = ContactRules.NormalizeName(b.Name)?.ToLowerInvariant();
        if (x is null || y is null)
        {
            return false;
        }
        if (x == y)
        {
            return true;
        }
        if (x.Length < 2 || y.Length < 2)
        {
            return false;
        }
        return x.Contains(y, StringComparison.Ordinal) || y.Contains(x, StringComparison.Ordinal) || WithinOneEdit(x, y);
    }

    // Levenshtein distance ≤ 1 without building the matrix: skip the common prefix, then the rests must match
    // after one substitution, insertion or deletion.
    private static bool WithinOneEdit(string x, string y)
    {
        if (Math.Abs(x.Length - y.Length) > 1)
        {
            return false;
        }
        var i = 0;
        while (i < x.Length && i < y.Length && x[i] == y[i])
        {
            i++;
        }
        if (i == x.Length || i == y.Length)
        {
            return true;
        }
        return x.Length == y.Length
            ? x.AsSpan(i + 1).SequenceEqual(y.AsSpan(i + 1))
            : x.Length > y.Length
                ? x.AsSpan(i + 1).SequenceEqual(y.AsSpan(i))
                : x.AsSpan(i).SequenceEqual(y.AsSpan(i + 1));
    }
}
