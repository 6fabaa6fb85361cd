namespace Tideflow.Domain.Pipeline;

/// <summary>"价格高 / 太贵 / too expensive → 价格敏感": any keyword found in a follow-up stamps the tag (R5.5).</summary>
public sealed record FeedbackRule(string Tag, IReadOnlyList<string> Keywords);

public static class FeedbackTags
{
    public const int MaxTag = 20;
    public const int MaxKeyword = 30;
    public const int MaxKeywords = 30;
    public const int MaxRules = 50;

    /// <summary>The rules an organisation starts with, in Chinese and English.</summary>
    public static IReadOnlyList<FeedbackRule> Default { get; } =
    [
        new("价格敏感", ["价格高", "太贵", "价格贵", "预算不够", "too expensive", "price is high"]),
        new("功能缺口", ["功能不足", "缺少功能", "不支持", "missing feature", "not supported"]),
        new("考虑竞品", ["竞品", "对比", "竞争对手", "competitor", "comparing"]),
    ];

    // Words in nearly every note: a rule on one of them would tag everything.
    private static readonly HashSet<string> TooCommon = new(StringComparer.OrdinalIgnoreCase)
    {
        "的", "了", "是", "在", "和", "我们", "客户", "他们", "沟通", "电话", "需要", "可以", "没有", "一个",
        "the", "and", "for", "you", "are", "with", "customer", "client", "call", "need", "not", "can",
    };

    /// <summary>The tags whose keywords appear in the text, ignoring case, in rule order, each once.</summary>
    public static IReadOnlyList<string> Tag(IEnumerable<FeedbackRule> rules, string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }
        return rules.Where(r => r.Keywords.Any(k => !string.IsNullOrWhiteSpace(k) && text.Contains(k.Trim(), StringComparison.OrdinalIgnoreCase)))
            .Select(r => r.Tag.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>
    /// Why the rule set cannot be saved, or an empty list: a rule without a tag or keywords, a keyword so short or so
    /// common it would tag nearly every follow-up, duplicates. Each message names the rule.
    /// </summary>
    public static IReadOnlyList<string> Problems(IReadOnlyList<FeedbackRule> rules)
    {
        var problems = new List<string>();
        if (rules.Count > MaxRules)
        {
            problems.Add($"At most {MaxRules} rules.");
        }
        var tags = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            var tag = rule?.Tag?.Trim() ?? "";
            var name = tag.Length == 0 ? $"Rule {i + 1}" : $"Rule '{tag}'";
            if (tag.Length is 0 or > MaxTag)
            {
                problems.Add($"{name}: the tag must be 1–{MaxTag} characters.");
            }
            // Tags are stored comma-separated on follow-ups and customers.
            else if (tag.IndexOfAny([',', '，']) >= 0)
            {
                problems.Add($"{name}: the tag must not contain a comma.");
            }
            else if (!tags.Add(tag))
            {
                problems.Add($"{name}: the tag is used by another rule.");
            }
            var keywords = (rule?.Keywords ?? []).Select(k => k?.Trim() ?? "").ToList();
            if (keywords.Count == 0 || keywords.All(k => k.Length == 0))
            {
                problems.Add($"{name}: give at least one keyword.");
                continue;
            }
            if (keywords.Count > MaxKeywords)
            {
                problems.Add($"{name}: at most {MaxKeywords} keywords.");
            }
            foreach (var keyword in keywords.Where(k => k.Length > 0))
            {
                if (keyword.Length > MaxKeyword)
                {
                    problems.Add($"{name}: keyword '{keyword[..MaxKeyword]}…' is longer than {MaxKeyword} characters.");
                }
                // One Chinese character or two Latin letters match almost any note.
                else if (keyword.Length < (keyword.Any(c => c > 0x2E80) ? 2 : 3))
                {
                    problems.Add($"{name}: keyword '{keyword}' is so short it would tag almost every follow-up.");
                }
                else if (TooCommon.Contains(keyword))
                {
                    problems.Add($"{name}: keyword '{keyword}' is in almost every follow-up.");
                }
            }
            if (keywords.Where(k => k.Length > 0).GroupBy(k => k, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } twice)
            {
                problems.Add($"{name}: keyword '{twice.Key}' is listed twice.");
            }
        }
        return problems;
    }
}
